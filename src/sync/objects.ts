/** The objects of the original pipeline and their default write modes. */
export const WRITE_MODES = ['replace', 'merge', 'append'] as const;
export type WriteModeName = (typeof WRITE_MODES)[number];

export const DEFAULT_OBJECTS = ['Account', 'Contact', 'Opportunity', 'OpportunityContactRole'];

/** The objects replaced by default (the original pipeline's); every other object is merged. */
export const REPLACE_OBJECTS = ['User', 'UserRole', 'Contact', 'Lead', 'Campaign', 'Product2', 'Pricebook2', 'PricebookEntry'];
const MERGE = ['Account', 'Opportunity', 'OpportunityLineItem', 'OpportunityContactRole', 'CampaignMember', 'Task', 'Event'];

export const KNOWN_OBJECTS = [...REPLACE_OBJECTS, ...MERGE];

/** The default mode of an object: the original pipeline's for its 15; merge (incremental) for others. */
export function defaultMode(object: string): WriteModeName {
  if (REPLACE_OBJECTS.includes(object)) return 'replace';
  return 'merge';
}
