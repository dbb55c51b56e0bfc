// lodge:app/types: the records the other interfaces share; nothing to call.

export default {
  name: "types",
  interfaces: ["lodge:app/types"],
  versions: ["0.1"],
  create: () => ({ imports: { "lodge:app/types": {} } }),
};
