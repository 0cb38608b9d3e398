// The weekly summary v3's JSON Schema. This object is the source; engine/schemas/weekly-summary-v3.schema.json is
// written from it by `npm run schemas` (a test keeps the two equal). No extra fields anywhere: the dashboard that
// reads v3 documents takes exactly this shape.
const COUNT = { type: 'integer', minimum: 0 } as const;
const DELTA = { type: 'integer' } as const;
const SEVERITIES = ['critical', 'high', 'medium', 'low', 'unknown'] as const;
const TIME = { type: 'string', format: 'date-time' } as const;

export const WEEKLY_SUMMARY_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://lading.dev/schemas/weekly-summary-v3.json',
  title: 'Lading weekly security summary, version 3',
  description:
    'Written by `lading summary`: per-repository counts of unsuppressed findings, their totals, the change since the previous summary, a trend and a risk index.',
  type: 'object',
  additionalProperties: false,
  required: [
    'generatedAt',
    'period',
    'images',
    'totals',
    'delta',
    'direction',
    'trend',
    'riskIndex',
    'riskIndexMethod',
    'version',
    'sources',
  ],
  properties: {
    generatedAt: TIME,
    period: {
      type: 'object',
      additionalProperties: false,
      required: ['start', 'end'],
      properties: { start: TIME, end: TIME },
    },
    images: {
      type: 'array',
      description: 'One entry per repository, sorted by name.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', ...SEVERITIES],
        properties: { name: { type: 'string', minLength: 1 }, ...counts(COUNT) },
      },
    },
    totals: { $ref: '#/definitions/counts' },
    delta: {
      type: 'object',
      description: 'totals minus the previous summary’s totals; zeros without a previous summary.',
      additionalProperties: false,
      required: [...SEVERITIES],
      properties: counts(DELTA),
    },
    direction: { enum: ['better', 'worse', 'stable'] },
    trend: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['date', 'critical', 'high', 'medium'],
        properties: {
          date: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
          critical: COUNT,
          high: COUNT,
          medium: COUNT,
        },
      },
    },
    riskIndex: { type: 'number', minimum: 0, maximum: 100 },
    riskIndexMethod: { type: 'string' },
    version: { const: 3 },
    sources: {
      type: 'array',
      description:
        'One line per counted report (`name[@digest] (file, createdAt[, data <when its vulnerability data was last updated>])`), then one per report not read (`not read: file (name): reason`).',
      items: { type: 'string' },
    },
  },
  definitions: {
    counts: {
      type: 'object',
      additionalProperties: false,
      required: [...SEVERITIES],
      properties: counts(COUNT),
    },
  },
} as const;

function counts<T>(schema: T): Record<(typeof SEVERITIES)[number], T> {
  return { critical: schema, high: schema, medium: schema, low: schema, unknown: schema };
}
