/* monitoring_record.h — the MonitoringRecord kind (ISO 28001 5.6):
 * organizations/{organization}/securityPlans/{security_plan}/
 * monitoringRecords/{monitoring_record}, one activity of the plan's
 * monitoring schedule carried out. A record kept: changed, never deleted on
 * its own. */
#ifndef SUPPLYSEC_MONITORING_RECORD_H
#define SUPPLYSEC_MONITORING_RECORD_H

#include "kind.h"
#include "supplysec/v1/monitoring_records.pb-c.h"

typedef Supplysec__V1__MonitoringRecord MonitoringRecord;

extern const kind monitoring_record_kind;

#define MONITORING_RECORDS_COLLECTION "monitoringRecords"

#endif
