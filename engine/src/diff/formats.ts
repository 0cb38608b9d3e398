/** The `-o` formats of `lading diff`; apart from the renderers so the CLI can list them without loading them. */
export const DIFF_FORMATS = ['table', 'json', 'markdown'] as const;
