/* training_record.h — the TrainingRecord kind (ISO 28001 5.5; AEO
 * criterion A): organizations/{organization}/securityPlans/{security_plan}/
 * trainingRecords/{training_record}, a session, drill or exercise held
 * under the plan. */
#ifndef SUPPLYSEC_TRAINING_RECORD_H
#define SUPPLYSEC_TRAINING_RECORD_H

#include "kind.h"
#include "supplysec/v1/training_records.pb-c.h"

typedef Supplysec__V1__TrainingRecord TrainingRecord;

extern const kind training_record_kind;

#define TRAINING_RECORDS_COLLECTION "trainingRecords"

#endif
