import { methodError, methodOk, methodPayload } from '../../../../../modules/common/src/twin/methods';

describe('method payloads and answers', () => {
  it('takes an object, treats nothing as {}, refuses anything else', () => {
    expect(methodPayload({ route: 'a' })).toEqual({ route: 'a' });
    expect(methodPayload(undefined)).toEqual({});
    expect(methodPayload(null)).toEqual({});
    expect(methodPayload(Buffer.from('{"route":"b"}'))).toEqual({ route: 'b' });
    expect(methodPayload(Buffer.alloc(0))).toEqual({});
    expect(methodPayload('route')).toBeUndefined();
    expect(methodPayload([1])).toBeUndefined();
    expect(methodPayload(Buffer.from('not json'))).toBeUndefined();
  });

  it('builds answers with stable error codes', () => {
    expect(methodOk({ a: 1 })).toEqual({ status: 200, payload: { a: 1 } });
    expect(methodError(404, 'UNKNOWN_ROUTE', 'no route "x"')).toEqual({
      status: 404,
      payload: { error: { code: 'UNKNOWN_ROUTE', message: 'no route "x"' } },
    });
  });
});
