import {
  FIN_FRAME,
  HALF_CLOSE_ACCEPT_FRAME,
  HALF_CLOSE_HEADER,
  halfCloseOfferHeaders,
  offersHalfClose,
} from '../../../../../modules/common/src/tunnel';

describe('half-close negotiation header', () => {
  it('offers with x-hrf-half-close: 1', () => {
    expect(HALF_CLOSE_HEADER).toBe('x-hrf-half-close');
    expect(halfCloseOfferHeaders()).toEqual({ 'x-hrf-half-close': '1' });
    expect(HALF_CLOSE_ACCEPT_FRAME).toBe('hrf:half-close:1');
    expect(FIN_FRAME).toBe('hrf:fin');
  });

  it('finds the offer whatever the case of the header name', () => {
    expect(offersHalfClose({ 'x-hrf-half-close': '1' })).toBe(true);
    expect(offersHalfClose({ 'X-Hrf-Half-Close': '1' })).toBe(true);
    expect(offersHalfClose({ Host: 'ns.servicebus.windows.net', 'X-HRF-HALF-CLOSE': ' 1 ' })).toBe(true);
  });

  it('accepts list forms of the value', () => {
    expect(offersHalfClose({ 'x-hrf-half-close': ['2', '1'] })).toBe(true);
    expect(offersHalfClose({ 'x-hrf-half-close': '2, 1' })).toBe(true);
  });

  it('treats anything else as no offer (azbridge, hyco-ws senders)', () => {
    expect(offersHalfClose(undefined)).toBe(false);
    expect(offersHalfClose({})).toBe(false);
    expect(offersHalfClose({ 'x-hrf-half-close': '0' })).toBe(false);
    expect(offersHalfClose({ 'x-hrf-half-close': undefined })).toBe(false);
    expect(offersHalfClose({ 'x-other': '1' })).toBe(false);
  });
});
