// The kubelet stand-in's pod IPs (test/cluster/kubelet/kubelet-network.ts): every one of them is an IPv4
// address the API server accepts in status.podIPs. The stand-in starts at a random number, and
// before this test a start in the last 1,000 numbers gave 10.244.256.x, which the API server
// refused (422) for every pod the stand-in then ran: a suite failing by chance.
import assert from 'node:assert/strict';
import { isIPv4 } from 'node:net';
import { describe, it } from 'node:test';
import { POD_IPS, podIpAt } from '../cluster/kubelet/kubelet-network.ts';

describe('the local cluster pod IPs', () => {
  it('are all valid and distinct IPv4 addresses in 10.244.0.0/16', () => {
    const seen = new Set<string>();
    for (let n = 0; n < POD_IPS; n++) {
      const ip = podIpAt(n);
      assert.ok(isIPv4(ip) && ip.startsWith('10.244.'), `${n}: ${ip}`);
      seen.add(ip);
    }
    assert.equal(seen.size, POD_IPS);
    assert.equal(podIpAt(POD_IPS - 1), '10.244.255.251');
  });

  it('has no number past the last address', () => {
    assert.throws(() => podIpAt(POD_IPS), RangeError);
  });
});
