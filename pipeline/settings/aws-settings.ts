import { ConflictError } from '../base/errors';
import { AWS_DEFAULTS, type AwsConfig } from '../cloud/aws-config';
import type { Settings } from './settings-store';

/** The AWS config of the Settings; refused (409: the request is fine, the state is not) while no bucket is set. */
export function awsConfigFromSettings(settings: Settings): AwsConfig {
  const { aws } = settings;
  if (!aws.bucket) throw new ConflictError('Set the S3 bucket in Settings first.');
  return {
    bucket: aws.bucket,
    region: aws.region,
    ...(aws.profile ? { profile: aws.profile } : {}),
    database: aws.glueDatabase || AWS_DEFAULTS.database,
    workgroup: aws.athenaWorkgroup || AWS_DEFAULTS.workgroup,
    role: AWS_DEFAULTS.role,
  };
}
