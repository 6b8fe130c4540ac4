/* err: the one result-code enum every function returns (WSMS_OK == 0), and
 * the table that maps each code to its HTTP status and API.md error_code.
 * Owns nothing; the table is static. */
#ifndef WSMS_ERR_H
#define WSMS_ERR_H

/* X(enum name, http status, default message) - the enum name minus "E_" is
 * the error_code string sent to clients. */
#define WSMS_ERRORS(X)                                                                             \
    X(E_INVALID_REQUEST, 400, "The request is not valid")                                          \
    X(E_MISSING_REQUIRED_FIELD, 400, "A required field is missing")                                \
    X(E_MISSING_AUTHORIZATION_HEADER, 401, "Authorization header is missing")                      \
    X(E_MISSING_AZURE_TOKEN, 401, "Azure token is missing")                                        \
    X(E_MISSING_PMA_TOKEN, 401, "PMA token is missing")                                            \
    X(E_INVALID_AZURE_TOKEN, 401, "Azure token is invalid or expired")                             \
    X(E_INVALID_PMA_TOKEN, 401, "PMA token is invalid or expired")                                 \
    X(E_TOKEN_MISMATCH, 401, "Azure and PMA tokens name different users")                          \
    X(E_TOKEN_VALIDATION_FAILED, 401, "Token validation failed")                                   \
    X(E_TOKEN_REFRESH_FAILED, 401, "Token refresh failed")                                         \
    X(E_INVALID_API_KEY, 401, "API key is invalid, expired, revoked or not for this route")        \
    X(E_USER_NOT_AUTHORIZED, 403, "You are not a member of this workspace")                        \
    X(E_INSUFFICIENT_PERMISSIONS, 403, "Your role does not allow this")                            \
    X(E_PERMISSION_DENIED, 403, "Permission denied")                                               \
    X(E_INVITATION_EMAIL_MISMATCH, 403, "The invitation is for another email address")             \
    X(E_NOT_FOUND, 404, "Not found")                                                               \
    X(E_WORKSPACE_NOT_FOUND, 404, "Workspace not found")                                           \
    X(E_MEMBER_NOT_FOUND, 404, "Member not found")                                                 \
    X(E_RESOURCE_NOT_FOUND, 404, "Resource not found")                                             \
    X(E_INVITATION_NOT_FOUND, 404, "Invitation not found")                                         \
    X(E_METHOD_NOT_ALLOWED, 405, "Method not allowed")                                             \
    X(E_CONFLICT, 409, "Conflict")                                                                 \
    X(E_LAST_OWNER, 409, "The workspace must keep at least one OWNER")                             \
    X(E_INVALID_TRANSITION, 409, "The run cannot make that transition")                            \
    X(E_INVITATION_REVOKED, 409, "The invitation was revoked")                                     \
    X(E_INVITATION_ALREADY_USED, 409, "The invitation was already accepted or declined")           \
    X(E_INVITATION_EXPIRED, 410, "The invitation has expired")                                     \
    X(E_PRECONDITION_FAILED, 412, "The resource has changed since it was read (If-Match)")         \
    X(E_PAYLOAD_TOO_LARGE, 413, "Request body is too large")                                       \
    X(E_VALIDATION_ERROR, 422, "Request validation failed")                                        \
    X(E_INVALID_ROLE, 422, "Invalid role")                                                         \
    X(E_RATE_LIMITED, 429, "Too many requests; retry after the time in Retry-After")               \
    X(E_INTERNAL_SERVER_ERROR, 500, "Internal server error")                                       \
    X(E_DATABASE_ERROR, 500, "Database error")                                                     \
    X(E_DB_QUERY_FAILED, 500, "Database query failed")                                             \
    X(E_STORAGE_ERROR, 500, "Storage error")                                                       \
    X(E_EXTERNAL_SERVICE_ERROR, 502, "External service error")                                     \
    X(E_INTEGRATION_FAILURE, 502, "Integration failure")                                           \
    X(E_DATABASE_CONNECTION_ERROR, 503, "Database connection failed")                              \
    X(E_NETWORK_ERROR, 503, "Network connection failed")                                           \
    X(E_INTEGRATION_NOT_CONFIGURED, 503, "Integration is not configured")                          \
    X(E_REQUEST_TIMEOUT, 504, "Request timed out")

typedef enum {
    WSMS_OK = 0,
#define WSMS_ERR_ENUM(name, status, msg) name,
    WSMS_ERRORS(WSMS_ERR_ENUM)
#undef WSMS_ERR_ENUM
        WSMS_ERR__COUNT
} wsms_err;

/* HTTP status for a code (200 for WSMS_OK, 500 for anything unknown). */
int err_status(wsms_err e);
/* API.md error_code string, e.g. "WORKSPACE_NOT_FOUND". */
const char *err_code(wsms_err e);
/* Default human readable message. */
const char *err_message(wsms_err e);

#endif
