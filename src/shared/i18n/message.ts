/**
 * A catalog entry: a template with `{name}` placeholders, or one template per CLDR plural category of the
 * parameter named by `count` (chosen with Intl.PluralRules for the catalog's locale; `other` is the fallback).
 */
export type Message = string | PluralMessage;

export type PluralMessage = { count: string; other: string } & Partial<Record<Intl.LDMLPluralRule, string>>;
