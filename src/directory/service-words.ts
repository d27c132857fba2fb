/**
 * How callers name common store services in the other language: a French store's
 * "Pharmacie" is "the pharmacy" to an English-speaking caller, and back.
 * Keys and values are normalized (see normalizeText).
 */
export const SERVICE_SYNONYMS: Record<string, string[]> = {
  pharmacie: ['pharmacy', 'chemist'],
  parapharmacie: ['pharmacy'],
  boulangerie: ['bakery'],
  patisserie: ['pastry', 'bakery'],
  boucherie: ['butcher', 'butchery'],
  poissonnerie: ['fish counter', 'fishmonger'],
  fromagerie: ['cheese counter'],
  accueil: ['reception', 'front desk'],
  caisse: ['checkout', 'cashier'],
  caisses: ['checkout', 'cashier'],
  'service client': ['customer service'],
  'service clients': ['customer service'],
  'service apres vente': ['after sales service', 'after sales'],
  sav: ['after sales service', 'after sales'],
  livraison: ['delivery', 'deliveries'],
  livraisons: ['delivery', 'deliveries'],
  comptabilite: ['accounting', 'accounts'],
  'ressources humaines': ['human resources'],
  direction: ['management', 'manager'],
  optique: ['optician', 'opticians'],
  jardinerie: ['garden centre', 'garden center'],
  bricolage: ['hardware', 'diy'],
  drive: ['drive', 'click and collect'],
  traiteur: ['deli', 'delicatessen'],
  'station service': ['gas station', 'petrol station'],
  securite: ['security'],
  informatique: ['it department'],
  pharmacy: ['pharmacie'],
  bakery: ['boulangerie'],
  reception: ['accueil'],
};
