// All API-gateway access-log formats, built with one set of credential options plus per-format overrides,
// for the collector's format registry.
import { createAwsApiGatewayFormat, type AwsApiGatewayFormatOptions } from './aws-apigw.js'
import { createCaddyFormat, type CaddyFormatOptions } from './caddy.js'
import { createEnvoyFormat, type EnvoyFormatOptions } from './envoy.js'
import type { GatewayOptions } from './gateway-common.js'
import { createKongFormat, type KongFormatOptions } from './kong.js'
import { createNginxFormat, createNginxJsonFormat, type NginxFormatOptions, type NginxJsonFormatOptions } from './nginx.js'
import { createTraefikFormat, type TraefikFormatOptions } from './traefik.js'
import type { LogFormat } from './types.js'

export const GATEWAY_FORMAT_NAMES = ['envoy', 'kong', 'nginx', 'nginx-json', 'traefik', 'caddy', 'aws-apigw'] as const
export type GatewayFormatName = (typeof GATEWAY_FORMAT_NAMES)[number]

export interface GatewayFormatsOptions extends GatewayOptions {
  /** Options for one format, over the shared ones above. */
  formats?: {
    envoy?: EnvoyFormatOptions
    kong?: KongFormatOptions
    nginx?: NginxFormatOptions
    'nginx-json'?: NginxJsonFormatOptions
    traefik?: TraefikFormatOptions
    caddy?: CaddyFormatOptions
    'aws-apigw'?: AwsApiGatewayFormatOptions
  }
}

export function createGatewayFormats(options: GatewayFormatsOptions = {}): LogFormat[] {
  const { formats = {}, ...shared } = options
  return [
    createEnvoyFormat({ ...shared, ...formats.envoy }),
    createKongFormat({ ...shared, ...formats.kong }),
    createNginxFormat({ ...shared, ...formats.nginx }),
    createNginxJsonFormat({ ...shared, ...formats['nginx-json'] }),
    createTraefikFormat({ ...shared, ...formats.traefik }),
    createCaddyFormat({ ...shared, ...formats.caddy }),
    createAwsApiGatewayFormat({ ...shared, ...formats['aws-apigw'] }),
  ]
}
