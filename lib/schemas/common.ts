import Type from 'typebox'

/** The schema, or null: a field that is always present, with no value yet or none to give. */
export const Nullable = <T extends Type.TSchema>(schema: T) => Type.Union([schema, Type.Null()])
