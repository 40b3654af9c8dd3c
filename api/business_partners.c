/* business_partners.c — the supplysec.v1.BusinessPartners service: the
 * standard methods of the BusinessPartner kind
 * (internal/domain/business_partner.c declares it and its rules). */
#include "business_partner.h"
#include "runtime.h"

static const api_method business_partners_methods[] = {
    API_STANDARD(CREATE, "CreateBusinessPartner", &business_partner_kind),
    API_STANDARD(GET, "GetBusinessPartner", &business_partner_kind),
    API_STANDARD(LIST, "ListBusinessPartners", &business_partner_kind),
    API_STANDARD(UPDATE, "UpdateBusinessPartner", &business_partner_kind),
    API_STANDARD(DELETE, "DeleteBusinessPartner", &business_partner_kind),
};

const api_service api_business_partners_service = {
    &supplysec__v1__business_partners__descriptor, business_partners_methods,
    sizeof business_partners_methods / sizeof business_partners_methods[0]};
