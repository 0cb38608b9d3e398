// The report's JSON Schema (the `-o json` contract, described in docs/report.md). This object is the source;
// engine/schemas/report.schema.json is written from it by `npm run schemas` (a test keeps the two equal), and the
// package-type enum comes from the ecosystem table, so a new ecosystem cannot be left out of it.
import { PACKAGE_TYPE_NAMES } from '../model/ecosystems.js';

export const REPORT_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://lading.dev/schemas/report-v1.json',
  title: 'Lading scan report (lading scan -o json)',
  description: 'Schema version 1. Fields are a contract: later versions only add fields.',
  type: 'object',
  required: ['schemaVersion', 'tool', 'createdAt', 'target', 'packages', 'findings', 'warnings', 'summary'],
  properties: {
    schemaVersion: {
      const: 1,
    },
    tool: {
      type: 'object',
      required: ['name', 'version'],
      properties: {
        name: {
          const: 'lading',
        },
        version: {
          type: 'string',
        },
      },
    },
    createdAt: {
      type: 'string',
      format: 'date-time',
    },
    target: {
      type: 'object',
      required: ['kind', 'ref', 'layers'],
      properties: {
        kind: {
          enum: ['image', 'rootfs', 'sbom'],
        },
        ref: {
          type: 'string',
        },
        digest: {
          $ref: '#/definitions/digest',
        },
        imageId: {
          $ref: '#/definitions/digest',
        },
        platform: {
          type: 'string',
        },
        repoTags: {
          type: 'array',
          items: {
            type: 'string',
          },
        },
        layers: {
          type: 'array',
          items: {
            type: 'object',
            required: ['diffId'],
            properties: {
              diffId: {
                $ref: '#/definitions/digest',
              },
              digest: {
                $ref: '#/definitions/digest',
              },
              size: {
                type: 'integer',
                minimum: 0,
              },
              mediaType: {
                type: 'string',
              },
              createdBy: {
                type: 'string',
              },
            },
          },
        },
        config: {
          type: 'object',
          properties: {
            user: {
              type: 'string',
            },
            env: {
              type: 'array',
              items: {
                type: 'string',
              },
            },
            entrypoint: {
              type: 'array',
              items: {
                type: 'string',
              },
            },
            cmd: {
              type: 'array',
              items: {
                type: 'string',
              },
            },
            labels: {
              type: 'object',
              additionalProperties: {
                type: 'string',
              },
            },
            workingDir: {
              type: 'string',
            },
            healthcheck: {
              type: 'array',
              description: 'The Docker Healthcheck.Test command, where the config has one.',
              items: {
                type: 'string',
              },
            },
            history: {
              type: 'array',
            },
          },
        },
      },
    },
    os: {
      type: 'object',
      required: ['family', 'version'],
      properties: {
        family: {
          type: 'string',
        },
        version: {
          type: 'string',
        },
        name: {
          type: 'string',
        },
        ecosystem: {
          type: 'string',
        },
        eolDate: {
          type: 'string',
        },
        eol: {
          type: 'boolean',
        },
        eolStatus: {
          enum: ['supported', 'end-of-life', 'unknown', 'rolling'],
        },
      },
    },
    packages: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'name', 'version', 'type', 'purl', 'licenses', 'locations', 'foundBy'],
        properties: {
          id: {
            type: 'string',
          },
          name: {
            type: 'string',
          },
          version: {
            type: 'string',
          },
          type: {
            enum: PACKAGE_TYPE_NAMES,
          },
          purl: {
            type: 'string',
            pattern: '^pkg:',
          },
          source: {
            type: 'object',
            required: ['name'],
            properties: {
              name: {
                type: 'string',
              },
              version: {
                type: 'string',
              },
            },
          },
          arch: {
            type: 'string',
          },
          licenses: {
            type: 'array',
            items: {
              type: 'string',
            },
          },
          locations: {
            type: 'array',
            items: {
              type: 'object',
              required: ['path'],
              properties: {
                path: {
                  type: 'string',
                },
                layer: {
                  type: 'string',
                },
              },
            },
          },
          foundBy: {
            type: 'string',
          },
          dependsOn: {
            type: 'array',
            items: {
              type: 'string',
            },
          },
          hashes: {
            type: 'array',
          },
          metadata: {
            type: 'object',
            additionalProperties: {
              type: 'string',
            },
          },
        },
      },
    },
    findings: {
      type: 'array',
      items: {
        type: 'object',
        required: [
          'id',
          'aliases',
          'packageId',
          'package',
          'severity',
          'cvss',
          'status',
          'fixedVersions',
          'kev',
          'advisory',
        ],
        properties: {
          id: {
            type: 'string',
          },
          aliases: {
            type: 'array',
            items: {
              type: 'string',
            },
          },
          packageId: {
            type: 'string',
          },
          package: {
            type: 'object',
            required: ['name', 'version', 'type', 'purl'],
            properties: {
              name: {
                type: 'string',
              },
              version: {
                type: 'string',
              },
              type: {
                type: 'string',
              },
              purl: {
                type: 'string',
              },
            },
          },
          severity: {
            enum: ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'],
          },
          severitySource: {
            type: 'string',
          },
          cvss: {
            type: 'array',
            items: {
              type: 'object',
              required: ['version', 'vector', 'score', 'source'],
              properties: {
                version: {
                  type: 'string',
                },
                vector: {
                  type: 'string',
                },
                score: {
                  type: 'number',
                  minimum: 0,
                  maximum: 10,
                },
                source: {
                  type: 'string',
                },
              },
            },
          },
          status: {
            enum: ['fixed', 'affected', 'will-not-fix', 'fix-deferred'],
          },
          fixedVersions: {
            type: 'array',
            items: {
              type: 'string',
            },
          },
          title: {
            type: 'string',
          },
          description: {
            type: 'string',
          },
          epss: {
            type: 'number',
            minimum: 0,
            maximum: 1,
          },
          epssPercentile: {
            type: 'number',
            minimum: 0,
            maximum: 1,
          },
          kev: {
            type: 'boolean',
          },
          advisory: {
            type: 'object',
            required: ['id', 'source'],
            properties: {
              id: {
                type: 'string',
              },
              source: {
                const: 'osv',
              },
              url: {
                type: 'string',
              },
              ecosystem: {
                type: 'string',
              },
              modified: {
                type: 'string',
              },
            },
          },
          references: {
            type: 'array',
            items: {
              type: 'string',
            },
          },
          published: {
            type: 'string',
          },
          layer: {
            type: 'string',
          },
          suppressed: {
            type: 'object',
            required: ['kind', 'reason'],
            properties: {
              kind: {
                type: 'string',
              },
              reason: {
                type: 'string',
              },
              source: {
                type: 'string',
              },
              expires: {
                type: 'string',
              },
            },
          },
        },
      },
    },
    warnings: {
      type: 'array',
      items: {
        type: 'object',
        required: ['cataloger', 'message'],
        properties: {
          cataloger: {
            type: 'string',
          },
          path: {
            type: 'string',
          },
          message: {
            type: 'string',
          },
          packageId: {
            type: 'string',
          },
        },
      },
    },
    summary: {
      type: 'object',
      required: ['packages', 'bySeverity'],
      properties: {
        packages: {
          type: 'integer',
          minimum: 0,
        },
        findings: {
          type: 'integer',
          minimum: 0,
        },
        suppressed: {
          type: 'integer',
          minimum: 0,
        },
        bySeverity: {
          type: 'object',
          required: ['critical', 'high', 'medium', 'low', 'unknown'],
          additionalProperties: {
            type: 'integer',
            minimum: 0,
          },
        },
      },
    },
    db: {
      type: 'object',
      properties: {
        builtAt: {
          type: 'string',
        },
        ecosystems: {
          type: 'object',
          additionalProperties: {
            type: 'string',
          },
        },
      },
    },
    policy: {
      type: 'object',
      required: ['pass', 'violations'],
      properties: {
        pass: {
          type: 'boolean',
        },
        violations: {
          type: 'array',
          items: {
            type: 'object',
            required: ['rule', 'action', 'message'],
            properties: {
              rule: {
                type: 'string',
              },
              action: {
                enum: ['fail', 'warn'],
              },
              message: {
                type: 'string',
              },
              findingId: {
                type: 'string',
              },
              packageId: {
                type: 'string',
              },
            },
          },
        },
        expiredExceptions: {
          type: 'array',
        },
      },
    },
    secrets: {
      type: 'array',
      description:
        'Secrets found in any layer of the image, also those a later layer deleted; the secret itself is never included. Absent when none were found or the scanner was off.',
      items: {
        type: 'object',
        required: ['ruleId', 'title', 'severity', 'path', 'line', 'redacted', 'fingerprint'],
        properties: {
          ruleId: { type: 'string' },
          title: { type: 'string' },
          severity: { enum: ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'] },
          path: { type: 'string' },
          line: { type: 'integer', minimum: 1 },
          redacted: { type: 'string', description: 'First 4 characters, an ellipsis and the length: `ghp_…(40)`.' },
          fingerprint: {
            type: 'string',
            pattern: '^[0-9a-f]{32}$',
            description: 'sha256 of rule id, path and secret, hex, truncated: stable across scans.',
          },
          layer: { type: 'string', description: 'Diff-id of the layer that added the file holding the secret.' },
          removedIn: { type: 'string', description: 'Diff-id of the later layer that deleted or replaced it.' },
        },
        additionalProperties: false,
      },
    },
    misconfigurations: {
      type: 'array',
      description: 'Image checks that failed (IMG-001…), in id order; absent when none failed or checks were off.',
      items: {
        type: 'object',
        required: ['id', 'severity', 'title', 'description', 'remediation', 'evidence'],
        properties: {
          id: {
            type: 'string',
            pattern: '^IMG-[0-9]{3}$',
          },
          severity: {
            enum: ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'],
          },
          title: {
            type: 'string',
          },
          description: {
            type: 'string',
          },
          remediation: {
            type: 'string',
          },
          evidence: {
            type: 'array',
            items: {
              type: 'object',
              required: ['message'],
              properties: {
                message: {
                  type: 'string',
                },
                path: {
                  type: 'string',
                },
                layer: {
                  $ref: '#/definitions/digest',
                },
              },
            },
          },
        },
      },
    },
    coverage: {
      type: 'object',
      description: 'Present when part of the target was not checked; a gate never passes on an incomplete report.',
      required: ['complete', 'gaps'],
      properties: {
        complete: {
          type: 'boolean',
        },
        gaps: {
          type: 'array',
          items: {
            type: 'object',
            required: ['kind', 'scope', 'message'],
            properties: {
              kind: {
                enum: ['no-data', 'catalog-incomplete'],
              },
              scope: {
                type: 'string',
              },
              path: {
                type: 'string',
              },
              message: {
                type: 'string',
              },
              packageIds: {
                type: 'array',
                items: {
                  type: 'string',
                },
              },
            },
          },
        },
      },
    },
    gate: {
      type: 'object',
      description: 'The combined verdict of --fail-on, --policy and --baseline; present only when one was given.',
      required: ['pass', 'reasons', 'notes'],
      properties: {
        pass: {
          type: 'boolean',
        },
        reasons: {
          type: 'array',
          items: {
            type: 'string',
          },
        },
        notes: {
          type: 'array',
          items: {
            type: 'string',
          },
        },
      },
    },
  },
  definitions: {
    digest: {
      type: 'string',
      pattern: '^[a-z0-9]+:[a-f0-9]{32,}$',
    },
  },
};
