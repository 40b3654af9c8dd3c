/* security_policies.c — the supplysec.v1.SecurityPolicies service: the
 * standard and lifecycle methods of the SecurityPolicy kind
 * (internal/domain/security_policy.c declares it and its rules). */
#include "runtime.h"
#include "security_policy.h"

static const api_method security_policies_methods[] = {
    API_STANDARD(CREATE, "CreateSecurityPolicy", &security_policy_kind),
    API_STANDARD(GET, "GetSecurityPolicy", &security_policy_kind),
    API_STANDARD(LIST, "ListSecurityPolicies", &security_policy_kind),
    API_STANDARD(UPDATE, "UpdateSecurityPolicy", &security_policy_kind),
    API_STANDARD(DELETE, "DeleteSecurityPolicy", &security_policy_kind),
    API_STANDARD(SUBMIT, "SubmitSecurityPolicy", &security_policy_kind),
    API_STANDARD(APPROVE, "ApproveSecurityPolicy", &security_policy_kind),
    API_STANDARD(REJECT, "RejectSecurityPolicy", &security_policy_kind),
    API_STANDARD(REVISE, "CreateSecurityPolicyRevision", &security_policy_kind),
    API_STANDARD(LIST_REVISIONS, "ListSecurityPolicyRevisions", &security_policy_kind),
};

const api_service api_security_policies_service = {
    &supplysec__v1__security_policies__descriptor, security_policies_methods,
    sizeof security_policies_methods / sizeof security_policies_methods[0]};
