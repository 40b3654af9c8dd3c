/* recognitions.c — the supplysec.v1.Recognitions service: the Recognition kind's
 * standard methods (internal/domain/recognition.c declares the kind and its rules). */
#include "recognition.h"
#include "runtime.h"

static const api_method recognitions_methods[] = {
    API_STANDARD(CREATE, "CreateRecognition", &recognition_kind),
    API_STANDARD(GET, "GetRecognition", &recognition_kind),
    API_STANDARD(LIST, "ListRecognitions", &recognition_kind),
    API_STANDARD(UPDATE, "UpdateRecognition", &recognition_kind),
    API_STANDARD(DELETE, "DeleteRecognition", &recognition_kind),
};

const api_service api_recognitions_service = {
    &supplysec__v1__recognitions__descriptor, recognitions_methods,
    sizeof recognitions_methods / sizeof recognitions_methods[0]};
