/**
 * Attributes keyed by names a runner chose (its label names). On a plain object,
 * `attributes[name] = value` with name `__proto__` replaces the object's prototype
 * instead of adding a label, and reading `attributes[name]` for `constructor` or
 * `toString` finds Object.prototype's function where there is no label. Every
 * write and lookup by such a name goes through these two functions.
 *
 * The objects stay plain (Object.prototype, own enumerable properties): spread,
 * Object.keys/entries, for…in, JSON.stringify and deep equality all see an own
 * `__proto__` property like any other.
 */
import type { AttributeValue, Attributes } from '@opentelemetry/api';

/** Sets `name` as an own, enumerable property, whatever the name. */
export function setAttribute(attributes: Attributes, name: string, value: AttributeValue): void {
  if (name === '__proto__') {
    Object.defineProperty(attributes, name, { value, enumerable: true, writable: true, configurable: true });
  } else {
    attributes[name] = value;
  }
}

/** The value of `name` if the object has it as its own property, else undefined (never an inherited one). */
export function getAttribute(attributes: Attributes, name: string): AttributeValue | undefined {
  return Object.hasOwn(attributes, name) ? attributes[name] : undefined;
}
