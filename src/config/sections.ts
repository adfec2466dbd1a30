/** The four component sections of a config file and how they relate to the registry. */
import type { ComponentKind } from '../component.js';
import type { ComponentRegistry } from './registry-types.js';

export type SectionKey = keyof ComponentRegistry;

/** In the order they appear in a config file. */
export const SECTION_KEYS: readonly SectionKey[] = ['receivers', 'processors', 'exporters', 'extensions'];

export const KIND: Record<SectionKey, ComponentKind> = {
  receivers: 'receiver',
  processors: 'processor',
  exporters: 'exporter',
  extensions: 'extension',
};

/** A component type, as the Collector allows it: a letter, then letters, digits and underscores. */
const COMPONENT_TYPE = /^[A-Za-z][A-Za-z0-9_]*$/;

/** Pipeline ids: only metrics pipelines exist here. */
export const PIPELINE_NAME = /^metrics(\/.+)?$/;

/** Splits and checks a component id (`type` or `type/name`); undefined when malformed. */
export function parseId(id: string): { type: string; name: string | undefined } | undefined {
  const slash = id.indexOf('/');
  const type = slash < 0 ? id : id.slice(0, slash);
  const name = slash < 0 ? undefined : id.slice(slash + 1);
  if (!COMPONENT_TYPE.test(type)) return undefined;
  if (name !== undefined && name.trim() === '') return undefined;
  return { type, name };
}
