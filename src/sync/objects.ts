/** The objects of the original pipeline and their default write modes. */
export type WriteModeName = 'replace' | 'merge' | 'append';

export const DEFAULT_OBJECTS = ['Account', 'Contact', 'Opportunity', 'OpportunityContactRole'];

const REPLACE = ['User', 'UserRole', 'Contact', 'Lead', 'Campaign', 'Product2', 'Pricebook2', 'PricebookEntry'];
const MERGE = ['Account', 'Opportunity', 'OpportunityLineItem', 'OpportunityContactRole', 'CampaignMember', 'Task', 'Event'];

export const KNOWN_OBJECTS = [...REPLACE, ...MERGE];

/** The default mode of an object: the original pipeline's for its 15; merge (incremental) for others. */
export function defaultMode(object: string): WriteModeName {
  if (REPLACE.includes(object)) return 'replace';
  return 'merge';
}
