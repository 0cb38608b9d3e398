// Validates every API response the tests see against server/openapi/lading.yaml (Ajv, JSON Schema 2020-12 as
// OpenAPI 3.1 uses it). A response fails when its path or method is not in the document, when its status is not
// declared for the operation, when its media type is not declared for that status, or when its body does not
// match the schema. A path the document does not have may only answer 404 with a problem document (unknown routes).
import { readFileSync } from 'node:fs';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { OPENAPI_PATH } from '../../src/api/system.js';

// both packages are CommonJS: under NodeNext their classes sit on `.default`
const Ajv2020 = Ajv2020Module.default;
type Ajv = InstanceType<typeof Ajv2020>;

// biome-ignore lint/suspicious/noExplicitAny: the OpenAPI document is walked as plain JSON
type Json = any;

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

export function loadOpenApiDocument(): Json {
  return parse(readFileSync(OPENAPI_PATH, 'utf8'));
}

export interface ResponseToCheck {
  readonly method: string;
  /** The URL path (query string allowed; it is ignored). */
  readonly path: string;
  readonly status: number;
  readonly contentType: string | null;
  readonly body: unknown;
}

const pointerEscape = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

function templateRegex(template: string): RegExp {
  const pattern = template
    .split(/(\{[^}]+\})/)
    .map((part) => (part.startsWith('{') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${pattern}$`);
}

export class OpenApiValidator {
  readonly document: Json;
  readonly #ajv: Ajv;
  readonly #paths: { template: string; regex: RegExp; literal: number }[];

  /** `extraPaths` adds test-only operations (probes of the conventions) to a copy of the document. */
  constructor(extraPaths: Record<string, Json> = {}) {
    this.document = loadOpenApiDocument();
    this.document.paths = { ...this.document.paths, ...extraPaths };
    this.#ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
    addFormats.default(this.#ajv);
    this.#ajv.addSchema(this.document, 'lading');
    // a literal segment beats a template segment (/images/search before /images/{digest})
    this.#paths = Object.keys(this.document.paths)
      .map((template) => ({
        template,
        regex: templateRegex(template),
        literal: template.replace(/\{[^}]+\}/g, '').length,
      }))
      .sort((a, b) => b.literal - a.literal);
  }

  /** Throws an Error naming the first violation. */
  check(response: ResponseToCheck): void {
    const path = response.path.split('?')[0]!;
    const method = response.method.toLowerCase();
    const where = `${response.method.toUpperCase()} ${path} → ${response.status}`;
    const match = this.#paths.find((p) => p.regex.test(path));
    const mediaType = (response.contentType ?? '').split(';')[0]!.trim().toLowerCase();
    if (!match) {
      if (response.status !== 404) throw new Error(`${where}: the path is not in the OpenAPI document`);
      this.#validate('lading#/components/schemas/Problem', response.body, where, mediaType, 'application/problem+json');
      return;
    }
    const operation = this.document.paths[match.template][method];
    if (!operation) {
      if (response.status === 404 || response.status === 405) {
        this.#validate(
          'lading#/components/schemas/Problem',
          response.body,
          where,
          mediaType,
          'application/problem+json',
        );
        return;
      }
      throw new Error(`${where}: ${method.toUpperCase()} is not an operation of ${match.template}`);
    }
    let declared = operation.responses?.[String(response.status)] ?? operation.responses?.default;
    if (!declared) throw new Error(`${where}: status ${response.status} is not declared for ${operation.operationId}`);
    let pointer = `lading#/paths/${pointerEscape(match.template)}/${method}/responses/${operation.responses[String(response.status)] ? response.status : 'default'}`;
    if (declared.$ref) {
      pointer = `lading${declared.$ref}`;
      declared = this.#resolve(declared.$ref);
    }
    const content = declared.content as Record<string, Json> | undefined;
    if (!content) {
      if (response.body !== undefined && response.body !== '') {
        throw new Error(`${where}: the document declares no body but one was sent`);
      }
      return;
    }
    if (!(mediaType in content)) {
      throw new Error(`${where}: media type "${mediaType}" is not declared (${Object.keys(content).join(', ')})`);
    }
    if (!content[mediaType].schema) return;
    this.#validate(`${pointer}/content/${pointerEscape(mediaType)}/schema`, response.body, where, mediaType, mediaType);
  }

  #resolve(ref: string): Json {
    let node = this.document;
    for (const part of ref.replace(/^#\//, '').split('/')) node = node[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    return node;
  }

  #validate(pointer: string, body: unknown, where: string, mediaType: string, expectedType: string): void {
    if (mediaType !== expectedType) throw new Error(`${where}: media type "${mediaType}", expected ${expectedType}`);
    const validate = this.#ajv.getSchema(pointer);
    if (!validate) throw new Error(`${where}: no schema at ${pointer}`);
    if (!validate(body)) {
      throw new Error(
        `${where}: the body does not match the OpenAPI document: ${this.#ajv.errorsText(validate.errors)}`,
      );
    }
  }
}
