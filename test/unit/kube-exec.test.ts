// What the exec adapter keeps of a command's output: at most MAX_EXEC_OUTPUT bytes a stream,
// the run's secrets masked, none shown in part where the output is cut.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { execOutput } from '../../src/adapters/kubernetes/exec.ts';
import { MAX_EXEC_OUTPUT } from '../../src/ports/exec.ts';

const SECRET = 'tok-3f9a1c';
/** The bytes a sink of MAX_EXEC_OUTPUT + the secret's length keeps of `text`, and how many it drops. */
function sink(text: string): [Buffer, number] {
  const all = Buffer.from(text);
  const limit = MAX_EXEC_OUTPUT + SECRET.length;
  return [all.subarray(0, limit), Math.max(0, all.length - limit)];
}

describe('exec output', () => {
  it('Keep short output whole, with the secrets masked', () => {
    assert.deepEqual(execOutput(...sink(`ok ${SECRET}\n`), [SECRET]), { text: 'ok ***\n', cut: false });
  });

  it('Cut long output at MAX_EXEC_OUTPUT bytes and say so', () => {
    const out = execOutput(...sink('x'.repeat(3 * MAX_EXEC_OUTPUT)), []);
    assert.equal(Buffer.byteLength(out.text), MAX_EXEC_OUTPUT);
    assert.equal(out.cut, true);
  });

  it('Mask a secret that crosses the cut whole', () => {
    const head = 'y'.repeat(MAX_EXEC_OUTPUT - 3);
    const out = execOutput(...sink(`${head}${SECRET}${'z'.repeat(50)}`), [SECRET]);
    assert.deepEqual(out, { text: `${head}***`, cut: true });
  });

  it('Show no start of a secret the kept bytes end inside', () => {
    // The second secret starts past the limit and the sink cut it; masking the first moves it
    // inside the limit, so it must be cut before masking.
    const filler = 'y'.repeat(MAX_EXEC_OUTPUT - 2 - SECRET.length);
    const out = execOutput(...sink(`${SECRET}\n${filler}xx${SECRET}${'z'.repeat(50)}`), [SECRET]);
    assert.equal(out.cut, true);
    assert.equal(out.text.includes(SECRET.slice(0, 4)), false, out.text.slice(-20));
    assert.ok(out.text.startsWith('***\n'));
  });

  it('Cut output that only masking makes long, without breaking a character', () => {
    const out = execOutput(Buffer.from('é'.repeat(MAX_EXEC_OUTPUT / 2 + 1)), 0, []);
    assert.equal(out.cut, true);
    assert.equal(out.text, 'é'.repeat(MAX_EXEC_OUTPUT / 2));
  });
});
