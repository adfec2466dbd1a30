/** Config of the `hostmetrics` receiver; README.md documents every key. */
import { z } from 'zod';
import { attributeValue, componentConfig, positiveDuration } from '../../config/schema-helpers.js';
import { GPU_TOOLS } from '../../host/gpu/types.js';
import type { FilesystemFilter, MatchList } from '../../host/filesystem.js';

/** Attributes the receiver sets itself. */
const RESERVED_ATTRIBUTES = ['backend'];

/** Mount points of other containers' layers and of the kernel's own trees, as node_exporter leaves out. */
export const DEFAULT_EXCLUDED_MOUNT_POINTS = [
  '^/(dev|proc|sys|run/credentials/.+|var/lib/docker/.+|var/lib/containers/storage/.+|var/lib/kubelet/.+|snap/.+)($|/)',
];

const matchType = z.enum(['strict', 'regexp']).describe('strict: equal to a listed value; regexp: a listed pattern matches somewhere in it.');

type MatchKey = 'devices' | 'fs_types' | 'mount_points';
type MatchListConfig = { readonly match_type: 'strict' | 'regexp' } & { readonly [key: string]: unknown };

/** `{ <key>: [...], match_type: strict|regexp }`, the Collector's filter shape; regexps are checked here. */
function matchList(key: MatchKey, what: string) {
  return z
    .strictObject({ [key]: z.array(z.string()).min(1).describe(what), match_type: matchType })
    .superRefine((v, ctx) => {
      if (v.match_type !== 'regexp') return;
      for (const [i, pattern] of (v[key] as string[]).entries()) {
        try {
          new RegExp(pattern);
        } catch (e) {
          ctx.addIssue({ code: 'custom', path: [key, i], message: `invalid regular expression: ${(e as Error).message}` });
        }
      }
    })
    .transform((v) => v as MatchListConfig)
    .optional();
}

const body = <T extends z.ZodRawShape>(shape: T) => z.strictObject(shape);

const filesystem = body({
  include_devices: matchList('devices', 'Devices (first field of /proc/self/mounts) to measure; others are left out.'),
  exclude_devices: matchList('devices', 'Devices to leave out.'),
  include_fs_types: matchList('fs_types', 'File system types to measure; others are left out.'),
  exclude_fs_types: matchList('fs_types', 'File system types to leave out.'),
  include_mount_points: matchList('mount_points', 'Mount points to measure; others are left out.'),
  exclude_mount_points: matchList('mount_points', 'Mount points to leave out.').default({
    mount_points: DEFAULT_EXCLUDED_MOUNT_POINTS,
    match_type: 'regexp',
  }),
  include_virtual_filesystems: z
    .boolean()
    .default(false)
    .describe('Also measure pseudo and memory-backed file systems (proc, sysfs, tmpfs, …) and read-only images (squashfs).'),
  timeout: positiveDuration().default(2_000).describe('Give up on one mount point\'s statfs after this long (a dead network mount).'),
});

const gpu = body({
  tools: z
    .array(z.enum(GPU_TOOLS as [string, ...string[]]))
    .default([...GPU_TOOLS])
    .describe('GPU tools to look for on PATH: nvidia-smi, rocm-smi.'),
  timeout: positiveDuration().default(5_000).describe('Kill a GPU tool that has not finished after this long (capped at collection_interval).'),
});

/**
 * A scraper listed with an empty body (`cpu:`, as the Collector's docs write it)
 * runs with its defaults; the JSON schema says null is allowed there.
 */
function scraper<S extends z.ZodType<object>>(schema: S, what: string) {
  return z
    .preprocess((v) => (v === null ? {} : v), schema)
    .meta({ type: ['object', 'null'] })
    .optional()
    .describe(what);
}

const scrapers = z
  .strictObject({
    cpu: scraper(body({}), 'CPU utilisation (/proc/stat) and logical CPU count.'),
    memory: scraper(body({}), 'Memory total, used, available and utilisation (/proc/meminfo).'),
    filesystem: scraper(filesystem, 'Size, used, available and utilisation per mounted file system (statfs).'),
    gpu: scraper(gpu, 'Per GPU figures from nvidia-smi and rocm-smi, when on PATH.'),
  })
  .describe('What to measure; only the listed scrapers run (default all four).');

export const hostmetricsReceiverConfigSchema = componentConfig({
  collection_interval: positiveDuration().default(10_000).describe('How often the host is measured.'),
  attributes: z
    .record(z.string(), attributeValue)
    .default({})
    .describe('Extra resource attributes of the host\'s series (backend is always "host").'),
  scrapers: scrapers.default({ cpu: {}, memory: {}, filesystem: filesystem.parse({}), gpu: gpu.parse({}) }),
}).superRefine((config, ctx) => {
  for (const key of RESERVED_ATTRIBUTES) {
    if (key in config.attributes) {
      ctx.addIssue({ code: 'custom', path: ['attributes', key], message: `"${key}" is set by the receiver ("host"); remove it here` });
    }
  }
});

export type HostmetricsReceiverConfig = z.output<typeof hostmetricsReceiverConfigSchema>;
export type FilesystemScraperConfig = z.output<typeof filesystem>;
export type GpuScraperConfig = z.output<typeof gpu>;

export function filesystemFilter(c: FilesystemScraperConfig): FilesystemFilter {
  const list = (v: MatchListConfig | undefined, key: MatchKey): MatchList | undefined =>
    v === undefined ? undefined : { values: v[key] as string[], matchType: v.match_type };
  return {
    includeDevices: list(c.include_devices, 'devices'),
    excludeDevices: list(c.exclude_devices, 'devices'),
    includeFsTypes: list(c.include_fs_types, 'fs_types'),
    excludeFsTypes: list(c.exclude_fs_types, 'fs_types'),
    includeMountPoints: list(c.include_mount_points, 'mount_points'),
    excludeMountPoints: list(c.exclude_mount_points, 'mount_points'),
    includeVirtualFilesystems: c.include_virtual_filesystems,
  };
}
