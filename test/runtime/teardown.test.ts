import { Teardown } from '../../src/runtime/teardown';

describe('teardown of a runtime', () => {
  it('closes the parts last opened first, each once', async () => {
    const closed: string[] = [];
    const teardown = new Teardown();
    for (const part of ['cache', 'store', 'registry', 'server']) teardown.add(() => void closed.push(part));
    await teardown.run();
    await teardown.run();
    expect(closed).toEqual(['server', 'registry', 'store', 'cache']);
  });

  it('closes every part when one fails to close, then throws what failed', async () => {
    const closed: string[] = [];
    const teardown = new Teardown();
    teardown.add(() => void closed.push('cache'));
    teardown.add(() => Promise.reject(new Error('store refused to close')));
    teardown.add(async () => void closed.push('server'));
    await expect(teardown.run()).rejects.toThrow('store refused to close');
    expect(closed).toEqual(['server', 'cache']);
  });

  it('names how many parts failed when several did', async () => {
    const teardown = new Teardown();
    teardown.add(() => Promise.reject(new Error('one')));
    teardown.add(() => Promise.reject(new Error('two')));
    await expect(teardown.run()).rejects.toThrow('2 parts of the gateway failed to close');
  });
});
