package codes

// schemaV4 marks the users whose credentials open in vacation mode
// (opmode.go): the house-sitter's code, say. Every user there was before
// is unmarked, so switching to vacation mode shuts them out until the
// owner marks one.
const schemaV4 = `
ALTER TABLE users ADD COLUMN vacation INTEGER NOT NULL DEFAULT 0 CHECK (vacation IN (0, 1));
`
