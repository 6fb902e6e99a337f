// What one CustomResourceDefinition of ours is made of; crd-manifest.ts turns it into the API object.
import type { Schema } from './schema-builders.ts';

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'boolean' | 'date' | 'number';
  jsonPath: string;
  description?: string;
  priority?: number;
}

export interface CrdDefinition {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  description: string;
  spec: Schema;
  status: Schema;
  printerColumns: PrinterColumn[];
  /** Namespaced kind (default: cluster-scoped). */
  namespaced?: boolean;
  /** A status subresource (default: true). */
  statusSubresource?: boolean;
}
