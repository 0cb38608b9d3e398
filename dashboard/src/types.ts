// The API's shapes the dashboard reads (server/openapi/lading.yaml is the contract; these mirror its schemas).
import type { Counts } from './format.js';

export interface ImageSummary {
  digest: string;
  repository: string | null;
  tags: string[];
  platform: string;
  state: string;
  ingestedAt: string;
  counts: Counts;
  suppressed: number;
  packages: number;
  kev: boolean;
  riskIndex: number;
  evidence: { state: string; score: number; max: number };
}

export interface WeeklySummary {
  generatedAt: string;
  period: { start: string; end: string };
  images: (Counts & { name: string })[];
  totals: Counts;
  delta: Counts;
  direction: 'better' | 'worse' | 'stable';
  trend: { date: string; critical: number; high: number; medium: number }[];
  riskIndex: number;
  riskIndexMethod: string;
  version: 3;
  sources: string[];
}
