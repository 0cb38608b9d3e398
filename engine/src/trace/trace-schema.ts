// The JSON Schema of `lading trace -o json` (all three forms: study, image stream, base mix). This object is the
// source; engine/schemas/trace.schema.json is written from it by `npm run schemas` (a test keeps the two equal).
const NUM_OR_NULL = { type: ['number', 'null'] } as const;
const COUNT = { type: 'integer', minimum: 0 } as const;
const TIME = { type: 'string', format: 'date-time' } as const;
const STR = { type: 'string' } as const;

const closed = (properties: Record<string, unknown>, optional: readonly string[] = []) => ({
  type: 'object',
  additionalProperties: false,
  required: Object.keys(properties).filter((k) => !optional.includes(k)),
  properties,
});

const LATENCY = closed({
  n: COUNT,
  events: COUNT,
  censored: COUNT,
  medianDays: NUM_OR_NULL,
  p90Days: NUM_OR_NULL,
  eventsOnlyMedianDays: NUM_OR_NULL,
});
const SEVERITY = { enum: ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'] } as const;
const PRIORITY = { enum: ['untriaged', 'negligible', 'low', 'medium', 'high', 'critical'] } as const;

const STUDY = closed(
  {
    kind: { const: 'lading-trace-study' },
    version: { const: 1 },
    window: closed({ from: TIME, to: TIME, observedUntil: TIME }),
    method: { type: 'array', items: STR },
    distro: closed({
      rows: {
        type: 'array',
        items: closed({
          distro: STR,
          release: STR,
          label: STR,
          severity: { enum: [...PRIORITY.enum, 'all'] },
          latency: LATENCY,
          endOfLife: COUNT,
          notAffected: COUNT,
        }),
      },
      skipped: closed({
        notCve: COUNT,
        noPublicationDate: COUNT,
        outsideWindow: COUNT,
        otherRelease: COUNT,
        beforeRelease: COUNT,
      }),
    }),
    images: {
      type: 'array',
      items: closed({
        series: STR,
        releases: { type: 'array', items: STR },
        builds: COUNT,
        firstAt: TIME,
        lastAt: TIME,
        latency: LATENCY,
        highLatency: LATENCY,
        regressions: COUNT,
        closedByReleaseChange: COUNT,
        timeBasis: closed({ registryPush: COUNT, repoInfoCommit: COUNT }),
      }),
    },
    baseLag: {
      type: 'array',
      items: closed({ series: STR, base: STR, n: COUNT, medianDays: NUM_OR_NULL, p90Days: NUM_OR_NULL, later: COUNT }),
    },
    baseOs: { type: 'array', items: closed({ os: STR, series: COUNT, builds: COUNT }) },
    releaseMoves: { type: 'array', items: closed({ series: STR, releases: { type: 'array', items: STR } }) },
    episodes: {
      type: 'array',
      items: closed({
        series: STR,
        release: STR,
        package: STR,
        fixedVersion: STR,
        fixAvailableAt: TIME,
        severity: PRIORITY,
        cves: { type: 'array', items: STR },
        startedIn: STR,
        startedAt: TIME,
        closedIn: { type: ['string', 'null'] },
        closedAt: { type: ['string', 'null'] },
        latencyDays: { type: 'number' },
        censored: { type: 'boolean' },
        regression: { type: 'boolean' },
      }),
    },
    sources: { type: 'array', items: STR },
  },
  ['episodes'],
);

const IMAGE = closed({
  kind: { const: 'lading-trace-image' },
  version: { const: 1 },
  stream: STR,
  timeBasis: { enum: ['scanned', 'image-created'] },
  builds: { type: 'array', items: closed({ file: STR, digest: { type: ['string', 'null'] }, at: TIME }) },
  bySeverity: closed({ CRITICAL: LATENCY, HIGH: LATENCY, MEDIUM: LATENCY, LOW: LATENCY, UNKNOWN: LATENCY }),
  all: LATENCY,
  regressions: COUNT,
  open: {
    type: 'array',
    items: closed({ vulnerability: STR, package: STR, severity: SEVERITY, ageDays: { type: 'number' } }),
  },
  episodes: {
    type: 'array',
    items: closed({
      vulnerability: STR,
      package: STR,
      severity: SEVERITY,
      published: { type: ['string', 'null'] },
      startedIn: STR,
      startedAt: TIME,
      closedIn: { type: ['string', 'null'] },
      closedAt: { type: ['string', 'null'] },
      days: { type: 'number' },
      open: { type: 'boolean' },
      regression: { type: 'boolean' },
    }),
  },
});

const BASE = closed({
  kind: { const: 'lading-trace-base' },
  version: { const: 1 },
  images: COUNT,
  shares: { type: 'array', items: closed({ os: STR, images: COUNT, share: { type: 'number' } }) },
  perImage: { type: 'array', items: closed({ file: STR, ref: STR, os: STR }) },
});

export const TRACE_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://lading.dev/schemas/trace.json',
  title: 'Lading trace results',
  description:
    'Written by `lading trace -o json`: the fix-latency study (kind lading-trace-study), one image stream’s remediation latency (lading-trace-image), or a base-OS mix (lading-trace-base).',
  oneOf: [STUDY, IMAGE, BASE],
} as const;
