/**
 * A store's telephone numbers in every form a PBX or a carrier sends them. A French store
 * created with 0298000000 is called as 0298000000 (national), +33298000000 (E.164),
 * 0033298000000 (international prefix) or 298000000 (trunk prefix dropped), depending on the
 * PBX and the trunk; all are one number. The country comes from the store's locale.
 */

interface NumberingPlan {
  /** Country calling code. */
  country: string;
  /** National trunk prefix ("0" in France, "1" in North America). */
  trunk: string;
  /** Digits of a national number after the trunk prefix. */
  significant: number;
  /** The international call prefix dialled from there ("00", "011"). */
  international: string;
}

const PLANS: Record<string, NumberingPlan> = {
  FR: { country: '33', trunk: '0', significant: 9, international: '00' },
  US: { country: '1', trunk: '1', significant: 10, international: '011' },
  GB: { country: '44', trunk: '0', significant: 10, international: '00' },
  BE: { country: '32', trunk: '0', significant: 8, international: '00' },
  CH: { country: '41', trunk: '0', significant: 9, international: '00' },
  DE: { country: '49', trunk: '0', significant: 10, international: '00' },
  ES: { country: '34', trunk: '', significant: 9, international: '00' },
  CA: { country: '1', trunk: '1', significant: 10, international: '011' },
};

/** The numbering plan of a locale ("fr-FR" -> France); undefined where none is known: numbers then match as written. */
export function planFor(locale: string): NumberingPlan | undefined {
  return PLANS[locale.split('-')[1]?.toUpperCase() ?? ''];
}

/**
 * The E.164 digits (without "+") a number stands for in the locale's plan, or the number as
 * written (punctuation dropped) where it is not one of the plan's forms: a store id or an
 * extension-like short number is matched as it is.
 */
export function numberKey(number: string, locale: string): string {
  const plain = number
    .trim()
    .replace(/^tel:/i, '')
    .replace(/[\s.()-]/g, '');
  const plan = planFor(locale);
  if (!/^\+?\d+$/.test(plain)) return number.trim();
  if (plan === undefined) return plain;
  if (plain.startsWith('+')) return plain.slice(1);
  if (plan.international !== '' && plain.startsWith(plan.international) && plain.length > plan.international.length + plan.significant - 2)
    return plain.slice(plan.international.length);
  if (plan.trunk !== '' && plain.startsWith(plan.trunk) && plain.length === plan.trunk.length + plan.significant)
    return plan.country + plain.slice(plan.trunk.length);
  if (plain.length === plan.significant) return plan.country + plain;
  if (plain.startsWith(plan.country) && plain.length === plan.country.length + plan.significant) return plain;
  return plain;
}

/** Every form of `number` a PBX may send, for `store show` and the docs. */
export function numberForms(number: string, locale: string): string[] {
  const plan = planFor(locale);
  const key = numberKey(number, locale);
  if (plan === undefined || !key.startsWith(plan.country) || key.length !== plan.country.length + plan.significant) return [number];
  const national = key.slice(plan.country.length);
  return [...new Set([`${plan.trunk}${national}`, `+${key}`, `${plan.international}${key}`, national, key])];
}

/** Whether the Request-URI user `user` is the store number `number`, in any of its forms. */
export function sameNumber(user: string, number: string, locale: string): boolean {
  return numberKey(user, locale) === numberKey(number, locale);
}
