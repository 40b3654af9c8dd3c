/* statements_of_application.c — the supplysec.v1.StatementsOfApplication
 * service: the standard and lifecycle methods of the StatementOfApplication
 * kind (internal/domain/statement_of_application.c declares it and its
 * rules). */
#include "runtime.h"
#include "statement_of_application.h"

static const api_method statements_methods[] = {
    API_STANDARD(CREATE, "CreateStatementOfApplication", &statement_of_application_kind),
    API_STANDARD(GET, "GetStatementOfApplication", &statement_of_application_kind),
    API_STANDARD(LIST, "ListStatementsOfApplication", &statement_of_application_kind),
    API_STANDARD(UPDATE, "UpdateStatementOfApplication", &statement_of_application_kind),
    API_STANDARD(DELETE, "DeleteStatementOfApplication", &statement_of_application_kind),
    API_STANDARD(SUBMIT, "SubmitStatementOfApplication", &statement_of_application_kind),
    API_STANDARD(APPROVE, "ApproveStatementOfApplication", &statement_of_application_kind),
    API_STANDARD(REJECT, "RejectStatementOfApplication", &statement_of_application_kind),
    API_STANDARD(REVISE, "CreateStatementOfApplicationRevision", &statement_of_application_kind),
    API_STANDARD(LIST_REVISIONS, "ListStatementOfApplicationRevisions",
                 &statement_of_application_kind),
};

const api_service api_statements_of_application_service = {
    &supplysec__v1__statements_of_application__descriptor, statements_methods,
    sizeof statements_methods / sizeof statements_methods[0]};
