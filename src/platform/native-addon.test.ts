// Loading the native addon: the message says how to build it when it is missing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadNativeAddon } from './native-addon.ts';

describe('native addon loading', () => {
  it('says how to build the addon when it is missing', () => {
    const result = loadNativeAddon('/nonexistent/beaconlb_native.node');
    assert.equal(result.ok, false);
    assert.equal(result.error.reason, 'addon-missing');
    assert.match(result.error.message, /run npm run build:native/);
  });
});
