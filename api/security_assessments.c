/* security_assessments.c — the supplysec.v1.SecurityAssessments service:
 * the standard and lifecycle methods of the SecurityAssessment kind, and
 * its reports (RankThreatScenarios, ComputeRiskMatrix, and
 * SimulateAnnualLoss in loss_simulation.c), each a call into
 * internal/domain. */
#include "loss_simulation.h"
#include "runtime.h"
#include "security_assessment.h"

static ProtobufCMessage *rank(api_call *call, ProtobufCMessage *msg)
{
    Supplysec__V1__RankThreatScenariosRequest *req = (void *)msg;
    Supplysec__V1__RankThreatScenariosResponse *r =
        security_assessment_rank(&call->op, req->name, &call->st);
    return r ? &r->base : NULL;
}

static ProtobufCMessage *matrix(api_call *call, ProtobufCMessage *msg)
{
    Supplysec__V1__ComputeRiskMatrixRequest *req = (void *)msg;
    Supplysec__V1__RiskMatrix *m = security_assessment_matrix(&call->op, req->name, &call->st);
    return m ? &m->base : NULL;
}

static ProtobufCMessage *simulate(api_call *call, ProtobufCMessage *msg)
{
    Supplysec__V1__SimulateAnnualLossRequest *req = (void *)msg;
    Supplysec__V1__AnnualLossSimulation *r =
        security_assessment_simulate(&call->op, req->name, req->trials, req->seed, &call->st);
    return r ? &r->base : NULL;
}

static const api_method security_assessments_methods[] = {
    API_STANDARD(CREATE, "CreateSecurityAssessment", &security_assessment_kind),
    API_STANDARD(GET, "GetSecurityAssessment", &security_assessment_kind),
    API_STANDARD(LIST, "ListSecurityAssessments", &security_assessment_kind),
    API_STANDARD(UPDATE, "UpdateSecurityAssessment", &security_assessment_kind),
    API_STANDARD(DELETE, "DeleteSecurityAssessment", &security_assessment_kind),
    API_STANDARD(SUBMIT, "SubmitSecurityAssessment", &security_assessment_kind),
    API_STANDARD(APPROVE, "ApproveSecurityAssessment", &security_assessment_kind),
    API_STANDARD(REJECT, "RejectSecurityAssessment", &security_assessment_kind),
    API_STANDARD(REVISE, "CreateSecurityAssessmentRevision", &security_assessment_kind),
    API_STANDARD(LIST_REVISIONS, "ListSecurityAssessmentRevisions", &security_assessment_kind),
    {.name = "RankThreatScenarios", .handler = rank},
    {.name = "ComputeRiskMatrix", .handler = matrix},
    {.name = "SimulateAnnualLoss", .handler = simulate},
};

const api_service api_security_assessments_service = {
    &supplysec__v1__security_assessments__descriptor, security_assessments_methods,
    sizeof security_assessments_methods / sizeof security_assessments_methods[0]};
