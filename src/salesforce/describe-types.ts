/** The parts of a Salesforce sObject describe (REST `/sobjects/{name}/describe`) this project uses. */

/** Salesforce field types as describe reports them in `type`. */
export type SalesforceFieldType =
  | 'id'
  | 'string'
  | 'textarea'
  | 'picklist'
  | 'multipicklist'
  | 'reference'
  | 'email'
  | 'phone'
  | 'url'
  | 'combobox'
  | 'encryptedstring'
  | 'boolean'
  | 'int'
  | 'long'
  | 'double'
  | 'percent'
  | 'currency'
  | 'date'
  | 'datetime'
  | 'time'
  | 'base64'
  | 'address'
  | 'location'
  | 'anyType'
  | 'complexvalue'
  | 'json';

export interface SalesforceField {
  name: string;
  type: SalesforceFieldType;
  label?: string;
  length?: number;
  precision?: number;
  scale?: number;
  digits?: number;
  nillable?: boolean;
  custom?: boolean;
  calculated?: boolean;
  /** Set on the components of a compound field (e.g. BillingCity → BillingAddress). */
  compoundFieldName?: string | null;
}
