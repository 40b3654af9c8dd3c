/* security_policy.h — the SecurityPolicy kind (ISO 28000 4.2), the first
 * controlled document: organizations/{organization}/securityPolicies/
 * {security_policy}. */
#ifndef SUPPLYSEC_SECURITY_POLICY_H
#define SUPPLYSEC_SECURITY_POLICY_H

#include "kind.h"
#include "supplysec/v1/security_policies.pb-c.h"

extern const kind security_policy_kind;

#endif
