/* plan_item.h — the PlanItem kind (ISO 28001 5.4):
 * organizations/{organization}/securityPlans/{security_plan}/items/{item},
 * one for each countermeasure the plan's assessment accepted, made with the
 * plan and deleted with it; changed by people whatever the plan's state. */
#ifndef SUPPLYSEC_PLAN_ITEM_H
#define SUPPLYSEC_PLAN_ITEM_H

#include <stdint.h>

#include "kind.h"
#include "supplysec/v1/plan_items.pb-c.h"

typedef Supplysec__V1__PlanItem PlanItem;

extern const kind plan_item_kind;

#define PLAN_ITEMS_COLLECTION "planItems"
#define PLAN_ITEMS_MAX 5000 /* the items a plan is made with, in its one write */

/* Whether it is past its due time (now_s: seconds since the epoch) and
 * neither IMPLEMENTED nor VERIFIED. */
bool plan_item_overdue(const PlanItem *it, int64_t now_s);

/* Adds to b the creation of the items of the new plan `plan`: one for each
 * countermeasure ACCEPTED in revision `revision` of the assessment (of
 * plan->org), as kept with that revision, by name, each PLANNED with the
 * countermeasure's owner and due time. FAILED_PRECONDITION past
 * PLAN_ITEMS_MAX. */
bool plan_items_make(const op_ctx *op, const resource_key *plan, const char *assessment,
                     int revision, resource_batch *b, status *st);

#endif
