// The identity-provider formats: one LogFormat per vendor log, each named as users pass it to --format.
import { createAuth0Format } from './auth0.js'
import { createCloudTrailFormat } from './cloudtrail.js'
import { createEntraFormat } from './entra.js'
import { createGoogleWorkspaceFormat } from './google-workspace.js'
import { createKeycloakFormat, type KeycloakFormatOptions } from './keycloak.js'
import { createOktaFormat, type OktaFormatOptions } from './okta.js'
import { createSsfFormat } from './ssf.js'
import type { LogFormat } from './types.js'

export interface IdpFormatOptions {
  okta?: OktaFormatOptions
  keycloak?: KeycloakFormatOptions
}

export function createIdpFormats(options: IdpFormatOptions = {}): LogFormat[] {
  return [
    createOktaFormat(options.okta),
    createAuth0Format(),
    createKeycloakFormat(options.keycloak),
    createEntraFormat(),
    createCloudTrailFormat(),
    createGoogleWorkspaceFormat(),
    createSsfFormat(),
  ]
}
