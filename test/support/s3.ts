// s3rver (npm), the lab's stand-in for an S3-compatible store, and the backend variables that point
// off-site backups at it.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { connect } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const repoRoot = fileURLToPath(new URL('../..', import.meta.url))
export const BUCKET = 'backups'
/** The bucket of the uploads (media_storage: s3). */
export const MEDIA_BUCKET = 'media'
// s3rver's fixed credentials: it checks every request's signature against them.
export const S3_KEY = 'S3RVER'

export interface S3Server { endpoint: string; stop: () => Promise<void> }

async function waitPort(host: string, port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, host, () => { s.destroy(); resolve(true) })
      s.on('error', () => resolve(false))
    })
    if (ok) return
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`s3rver does not answer on ${host}:${port}`)
}

/** s3rver on the lab's gateway, its buckets kept in `dir` across restarts and labs. */
export async function startS3(gateway: string, port: number, dir: string, buckets: string[] = [BUCKET]): Promise<S3Server> {
  const child: ChildProcess = spawn(join(repoRoot, 'node_modules/.bin/s3rver'), ['-d', dir, '-a', gateway, '-p', String(port),
    '--no-vhost-buckets', ...buckets.flatMap((b) => ['--configure-bucket', b]), '-s'], { stdio: 'ignore' })
  await waitPort(gateway, port)
  return {
    endpoint: `http://${gateway}:${port}`,
    async stop() {
      if (child.exitCode !== null) return
      const closed = once(child, 'exit')
      child.kill('SIGTERM')
      await closed
    },
  }
}

/** The inventory's variables and vault values for off-site backups to `endpoint`, encrypted to `recipient`. */
export function offsiteBackup(endpoint: string, recipient: string, identity: string): { vars: Record<string, unknown>; vault: Record<string, string> } {
  return {
    vars: {
      backend_backup_offsite_enabled: true,
      backend_backup_s3_endpoint: endpoint,
      backend_backup_s3_addressing_style: 'path',
      backend_backup_age_recipient: recipient,
    },
    vault: {
      vault_backup_s3_access_key: S3_KEY,
      vault_backup_s3_secret_key: S3_KEY,
      vault_backup_s3_bucket: BUCKET,
      vault_backup_age_identity: identity,
    },
  }
}

/** The inventory's variables and vault values for uploads in the media bucket of `endpoint` (the
 * venv sees Debian's django-storages with its S3 backend and boto3). */
export function mediaStorage(endpoint: string, packages: readonly string[]): { vars: Record<string, unknown>; vault: Record<string, string> } {
  return {
    vars: {
      media_storage: 's3',
      backend_media_s3_bucket: MEDIA_BUCKET,
      backend_media_s3_endpoint: endpoint,
      backend_media_s3_addressing_style: 'path',
      backend_requirements_file: 'requirements-s3.txt',
      backend_packages_extra: [...packages, 'python3-django-storages-boto3'],
    },
    vault: { vault_media_s3_access_key: S3_KEY, vault_media_s3_secret_key: S3_KEY },
  }
}
