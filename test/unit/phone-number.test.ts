import { numberForms, numberKey, sameNumber } from '../../src/directory/phone-number';

describe('store numbers in every form a PBX sends', () => {
  it('reaches a French store created with 0298000000 from +33298000000, 0033298000000, 298000000 and 02 98 00 00 00', () => {
    for (const form of ['0298000000', '+33298000000', '0033298000000', '298000000', '02 98 00 00 00', 'tel:+33-2-98-00-00-00']) {
      expect([form, sameNumber(form, '0298000000', 'fr-FR')]).toEqual([form, true]);
    }
    expect(sameNumber('0298000001', '0298000000', 'fr-FR')).toBe(false);
    expect(numberKey('0298000000', 'fr-FR')).toBe('33298000000');
  });

  it("uses the store locale's country: a US store takes +1 and the trunk 1", () => {
    expect(sameNumber('+12125550100', '2125550100', 'en-US')).toBe(true);
    expect(sameNumber('12125550100', '2125550100', 'en-US')).toBe(true);
    expect(sameNumber('+33298000000', '2125550100', 'en-US')).toBe(false);
  });

  it('matches a store id or a short number as written', () => {
    expect(numberKey('brest-1', 'fr-FR')).toBe('brest-1');
    expect(sameNumber('4000', '4000', 'fr-FR')).toBe(true);
    expect(sameNumber('04000', '4000', 'fr-FR')).toBe(false);
  });

  it('lists the forms `store show` prints', () => {
    expect(numberForms('0298000000', 'fr-FR')).toEqual(['0298000000', '+33298000000', '0033298000000', '298000000', '33298000000']);
  });
});
