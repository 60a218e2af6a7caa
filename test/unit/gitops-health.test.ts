// The GitOps health checks of examples/gitops/ (issue 18, item 4), run by real evaluators: the
// Argo CD Lua script in fengari (a Lua VM in JavaScript), the Flux healthCheckExprs in
// @marcbachmann/cel-js, each driven as its controller drives it. One table: a StatefulSet in
// each phase statefulset-canary records (and without any) -> the health each UI shows.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { evaluate } from '@marcbachmann/cel-js';
import fengari from 'fengari';
import { load } from 'js-yaml';
import { encodeState, type Phase } from '../../src/engine/state.ts';

const examples = join(import.meta.dirname, '../../examples/gitops');
const luaScript = readFileSync(join(examples, 'argocd-health-statefulset.lua'), 'utf8');
const PARKED = 2 ** 31 - 1;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

// ---- Argo CD: the script runs with the object as global `obj` and returns {status, message}.

const { lua, lauxlib, lualib, to_luastring } = fengari;

/** Pushes a JSON value as Argo CD hands it to Lua: tables, strings, numbers (all floats, as gopher-lua's). */
function pushJson(L: fengari.LuaState, value: Json): void {
  if (value === null) lua.lua_pushnil(L);
  else if (typeof value === 'boolean') lua.lua_pushboolean(L, value);
  else if (typeof value === 'number') lua.lua_pushnumber(L, value);
  else if (typeof value === 'string') lua.lua_pushstring(L, to_luastring(value));
  else if (Array.isArray(value)) {
    lua.lua_createtable(L, value.length, 0);
    value.forEach((item, i) => {
      pushJson(L, item);
      lua.lua_rawseti(L, -2, i + 1);
    });
  } else {
    lua.lua_createtable(L, 0, 0);
    for (const [key, item] of Object.entries(value)) {
      pushJson(L, item);
      lua.lua_setfield(L, -2, to_luastring(key));
    }
  }
}

function argoHealth(object: Obj, script = luaScript): { status: string; message: string } {
  const L = lauxlib.luaL_newstate();
  lualib.luaL_openlibs(L);
  pushJson(L, object);
  lua.lua_setglobal(L, to_luastring('obj'));
  const loaded = lauxlib.luaL_loadstring(L, to_luastring(script));
  if (loaded !== lua.LUA_OK || lua.lua_pcall(L, 0, 1, 0) !== lua.LUA_OK)
    throw new Error(`Lua: ${lua.lua_tojsstring(L, -1)}`);
  const field = (name: string) => {
    lua.lua_getfield(L, -1, to_luastring(name));
    const text = lua.lua_type(L, -1) === lua.LUA_TSTRING ? lua.lua_tojsstring(L, -1) : '';
    lua.lua_pop(L, 1);
    return text;
  };
  return { status: field('status'), message: field('message') };
}

// ---- Flux: fluxcd/pkg/runtime/cel StatusEvaluator.Evaluate over the Kustomization's entry.

interface HealthCheckExprs {
  readonly apiVersion: string;
  readonly kind: string;
  readonly inProgress: string;
  readonly failed: string;
  readonly current: string;
}
const kustomization = load(readFileSync(join(examples, 'flux-kustomization.yaml'), 'utf8')) as {
  spec: { healthCheckExprs: HealthCheckExprs[] };
};
const exprs = kustomization.spec.healthCheckExprs[0]!;

/** Integers as CEL ints (Go's unstructured JSON holds int64), as Flux's cel-go sees them. */
function celValue(value: Json): unknown {
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map(celValue);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, celValue(v)]));
  return value;
}

function fluxHealth(object: Obj): string {
  const metadata = object.metadata as Obj;
  const status = object.status as Obj;
  if (typeof status.observedGeneration === 'number' && status.observedGeneration !== metadata.generation)
    return 'InProgress';
  const data = celValue(object) as Record<string, unknown>;
  for (const [expr, result] of [
    [exprs.inProgress, 'InProgress'],
    [exprs.failed, 'Failed'],
    [exprs.current, 'Current'],
  ] as const) {
    const value: unknown = evaluate(expr, data);
    assert.equal(typeof value, 'boolean', `${result}: ${String(value)}`);
    if (value) return result;
  }
  return 'InProgress';
}

// ---- The table.

interface Live {
  phase?: string;
  stage?: string;
  target?: string;
  replicas?: number;
  partition?: number | null;
  strategy?: 'RollingUpdate' | 'OnDelete';
  generation?: number;
  observedGeneration?: number;
  ready?: number;
  updated?: number;
  current?: number;
  currentRevision?: string;
  updateRevision?: string;
}

/** A StatefulSet as the API server returns it: parked at PARKED, 3 ready pods on db-a. */
function statefulSet(live: Live = {}): Obj {
  const replicas = live.replicas ?? 3;
  // The annotations exactly as the action's state codec writes them.
  const recorded = encodeState({
    kind: 'rollout',
    phase: (live.phase ?? 'succeeded') as Phase,
    stage: Number(live.stage ?? '1'),
    targetRevision: live.target ?? 'db-b',
    previousRevision: 'db-a',
    originalPartition: PARKED,
    runUrl: 'https://github.com/o/r/actions/runs/1',
    commit: 'abc123',
    pullRequest: 7,
  });
  const annotations: Obj = Object.fromEntries(
    Object.entries(recorded).filter((entry): entry is [string, string] => entry[1] !== null),
  );
  const partition = live.partition === undefined ? PARKED : live.partition;
  const strategy: Obj =
    live.strategy === 'OnDelete'
      ? { type: 'OnDelete' }
      : { type: 'RollingUpdate', ...(partition === null ? {} : { rollingUpdate: { partition } }) };
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: {
      name: 'db',
      namespace: 'prod',
      generation: live.generation ?? 4,
      ...(live.phase === undefined ? {} : { annotations }),
    },
    spec: { replicas, serviceName: 'db', updateStrategy: strategy },
    status: {
      observedGeneration: live.observedGeneration ?? live.generation ?? 4,
      replicas,
      readyReplicas: live.ready ?? replicas,
      availableReplicas: live.ready ?? replicas,
      currentReplicas: live.current ?? replicas,
      updatedReplicas: live.updated ?? replicas,
      currentRevision: live.currentRevision ?? 'db-a',
      updateRevision: live.updateRevision ?? 'db-a',
      collisionCount: 0,
    },
  };
}

const canary = { target: 'db-b', currentRevision: 'db-a', updateRevision: 'db-b' };
const cases: [string, Live, argo: string, flux: string, message?: RegExp][] = [
  // What statefulset-canary records.
  [
    'rolling-out: the canary runs',
    { phase: 'rolling-out', partition: 2, updated: 1, current: 2, ...canary },
    'Progressing',
    'InProgress',
    /canary of revision db-b at stage 1, 1 of 3 pods updated/,
  ],
  [
    'rolling-out at the frozen stage 0, no pod updated yet',
    { phase: 'rolling-out', stage: '0', updated: 0, ...canary },
    'Progressing',
    'InProgress',
  ],
  [
    'paused between stages',
    { phase: 'paused', stage: '1', partition: 2, updated: 1, ...canary },
    'Progressing',
    'InProgress',
    /paused after stage 1 .*promote or abort/,
  ],
  [
    'rolling-back',
    { phase: 'rolling-back', ready: 2, ...canary },
    'Progressing',
    'InProgress',
    /rolling revision db-b back to db-a/,
  ],
  [
    'halted',
    { phase: 'halted', stage: '2', partition: 1, updated: 2, ...canary },
    'Degraded',
    'Failed',
    /db-b halted at stage 2/,
  ],
  ['failed', { phase: 'failed', ready: 2, ...canary }, 'Degraded', 'Failed'],
  [
    'cancelled mid-rollout',
    { phase: 'cancelled', partition: 2, updated: 1, ...canary },
    'Degraded',
    'Failed',
    /cancelled at stage 1/,
  ],
  [
    'succeeded, every pod ready',
    { phase: 'succeeded', target: 'db-b', currentRevision: 'db-b', updateRevision: 'db-b' },
    'Healthy',
    'Current',
    /revision db-b rolled out, 3 pods ready/,
  ],
  [
    'succeeded, a pod not ready (yet)',
    { phase: 'succeeded', target: 'db-b', currentRevision: 'db-b', updateRevision: 'db-b', ready: 2 },
    'Progressing',
    'InProgress',
  ],
  [
    'rolled-back beside a GitOps controller: Git still holds the failed revision, its pods replaced',
    { phase: 'rolled-back', updated: 0, ...canary },
    'Healthy',
    'Current',
    /db-b failed its canary .*revert the change in Git/,
  ],
  [
    'rolled-back with apply: true: the previous template restored',
    { phase: 'rolled-back', target: 'db-b', currentRevision: 'db-a', updateRevision: 'db-a' },
    'Healthy',
    'Current',
    /rolled back to revision db-a/,
  ],
  [
    'rolled-back, a pod not ready (yet)',
    { phase: 'rolled-back', ready: 1, ...canary },
    'Progressing',
    'InProgress',
  ],
  [
    'succeeded, then a new template synced while parked: waits for its canary',
    { phase: 'succeeded', target: 'db-b', currentRevision: 'db-b', updateRevision: 'db-c', updated: 0 },
    'Progressing',
    'InProgress',
    /revision db-c waits for its statefulset-canary canary/,
  ],
  [
    'halted, then a fix synced from Git: waits for its canary',
    { phase: 'halted', currentRevision: 'db-a', updateRevision: 'db-c', updated: 0, target: 'db-b' },
    'Progressing',
    'InProgress',
  ],
  [
    'succeeded, but the controller has not observed the latest spec',
    { phase: 'succeeded', generation: 5, observedGeneration: 4 },
    'Progressing',
    'InProgress',
  ],
  // No annotations (or none of ours): each controller's usual StatefulSet rules.
  ['no annotations, every pod on one revision and ready', { partition: null }, 'Healthy', 'Current'],
  [
    'no annotations, a pod not ready',
    { partition: null, ready: 2 },
    'Progressing',
    'InProgress',
    /Waiting for 1 pods to be ready/,
  ],
  [
    'no annotations, a rolling update without a partition under way',
    { partition: null, current: 1, updated: 2, currentRevision: 'db-a', updateRevision: 'db-b' },
    'Progressing',
    'InProgress',
  ],
  [
    'no annotations, parked with a new revision no pod runs: healthy, as the built-in rules see a partition',
    { currentRevision: 'db-a', updateRevision: 'db-b', updated: 0 },
    'Healthy',
    'Current',
    /partitioned roll out complete/,
  ],
  [
    'no annotations, a partitioned update short of its pods',
    { partition: 1, updated: 1, currentRevision: 'db-a', updateRevision: 'db-b' },
    'Progressing',
    'InProgress',
  ],
  ['no annotations, OnDelete', { strategy: 'OnDelete', ready: 3, updated: 0 }, 'Healthy', 'Current'],
  [
    'a phase statefulset-canary never writes: the usual rules',
    { phase: 'frobbed', partition: null },
    'Healthy',
    'Current',
  ],
  [
    'no annotations, the controller has not observed the latest spec',
    { generation: 5, observedGeneration: 4 },
    'Progressing',
    'InProgress',
  ],
];

// Every phase the state codec can record, settled (every pod Ready, no newer revision synced):
// a phase added to src/engine/result.ts without a health here does not type-check.
const settled: Record<Phase, [argo: string, flux: string]> = {
  'rolling-out': ['Progressing', 'InProgress'],
  'rolling-back': ['Progressing', 'InProgress'],
  paused: ['Progressing', 'InProgress'],
  succeeded: ['Healthy', 'Current'],
  'rolled-back': ['Healthy', 'Current'],
  halted: ['Degraded', 'Failed'],
  cancelled: ['Degraded', 'Failed'],
  failed: ['Degraded', 'Failed'],
};

describe('every recorded phase, settled', () => {
  for (const [phase, [argo, flux]] of Object.entries(settled)) {
    it(`${phase} -> ${argo} in Argo CD, ${flux} in Flux`, () => {
      const revisions =
        phase === 'succeeded' ? { target: 'db-b', currentRevision: 'db-b', updateRevision: 'db-b' } : canary;
      const sts = statefulSet({ phase, ...revisions });
      assert.equal(argoHealth(sts).status, argo);
      assert.equal(fluxHealth(sts), flux);
    });
  }
});

describe('GitOps health checks (examples/gitops)', () => {
  describe('Argo CD Lua (fengari)', () => {
    for (const [name, live, expected, , message] of cases) {
      it(`${name} -> ${expected}`, () => {
        const health = argoHealth(statefulSet(live));
        assert.equal(health.status, expected, health.message);
        assert.ok(health.message.length > 0, 'a message for the UI');
        if (message) assert.match(health.message, message);
      });
    }
    it('argocd-cm.yaml installs exactly argocd-health-statefulset.lua', () => {
      const cm = load(readFileSync(join(examples, 'argocd-cm.yaml'), 'utf8')) as {
        data: Record<string, string>;
      };
      assert.equal(cm.data['resource.customizations.health.apps_StatefulSet'], luaScript);
    });
    it('stays within Lua 5.1 as Argo CD runs it (no integer division, bitwise operators or goto)', () => {
      const code = luaScript.replace(/--.*$/gm, '');
      assert.doesNotMatch(code, /\/\/|[&|~]\s*[\w(]|<<|>>|\bgoto\b/);
    });
  });

  describe('Flux healthCheckExprs (CEL)', () => {
    it('is an entry for apps/v1 StatefulSet with all three expressions', () => {
      assert.equal(exprs.apiVersion, 'apps/v1');
      assert.equal(exprs.kind, 'StatefulSet');
      for (const e of [exprs.inProgress, exprs.failed, exprs.current]) assert.ok(e.trim().length > 0);
    });
    for (const [name, live, , expected] of cases) {
      it(`${name} -> ${expected}`, () => {
        assert.equal(fluxHealth(statefulSet(live)), expected);
      });
    }
  });
});
