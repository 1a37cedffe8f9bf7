// The metadata.managedFields entry the API server adds per field manager: the bulk of many objects it
// sends, so the bench's objects carry them too (what the informers receive, and what nls drops).
export const managedField = (manager, fieldsV1, extra = {}) => ({
  manager,
  operation: "Update",
  apiVersion: "v1",
  time: "2026-11-29T10:00:00Z",
  fieldsType: "FieldsV1",
  fieldsV1,
  ...extra,
});
