/*
 * What a credential says: the kinds, the subject fields a request may carry and their bounds,
 * and the W3C VC 2.0 document built from them (README.md "The credential"), signed with the
 * university's key as eddsa-jcs-2022.
 */
#define _GNU_SOURCE
#include "../../chain/vc.h"
#include "../../server/http.h"
#include "../../server/server.h"
#include "edu_int.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct {
    const char *kind, *type;
} kinds[] = {
    {"diploma", "DiplomaCredential"},       /* 毕业证书 */
    {"degree", "DegreeCredential"},         /* 学位证书 */
    {"transcript", "TranscriptCredential"}, /* 成绩单 */
    {"completion", "CompletionCredential"}, /* certificate of completion */
};

const char *edu_kind_type(const char *kind)
{
    for (size_t i = 0; kind != NULL && i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(kinds[i].kind, kind) == 0)
            return kinds[i].type;
    return NULL;
}

/* ---- time and ids ------------------------------------------------------------------------- */

int64_t edu_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void edu_now_iso(char out[32])
{
    time_t t = (time_t)(edu_now_ms() / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void edu_date_of_ms(int64_t ms, char *out, size_t cap)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, cap, "%Y-%m-%d", &tm);
}

int64_t edu_datetime_ms(const char *s)
{
    int64_t ms;

    return chain_vc_datetime_ms(s, &ms) == 0 ? ms : -1;
}

void edu_uuid(char out[EDU_ID_LEN + 1])
{
    uint8_t b[16];

    randombytes_buf(b, sizeof(b));
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(out, EDU_ID_LEN + 1,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
}

int edu_uuid_valid(const char *id)
{
    if (id == NULL || strlen(id) != EDU_ID_LEN)
        return 0;
    for (size_t i = 0; i < EDU_ID_LEN; i++) {
        char c = id[i];

        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return 0;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return 0;
        }
    }
    return 1;
}

void edu_base_url(struct srv *s, char *out, size_t cap)
{
    const char *env = getenv("LIANXIN_PUBLIC_URL");
    size_t n;

    if (env != NULL && *env != '\0')
        snprintf(out, cap, "%s", env);
    else
        snprintf(out, cap, "http://%s:%u", s->cfg.listen_host, srv_http_port(s));
    n = strlen(out);
    while (n > 0 && out[n - 1] == '/')
        out[--n] = '\0';
}

/* ---- subject fields ----------------------------------------------------------------------- */

/* Text a person typed: 1..max bytes (0 allowed when !required), no control characters. Jansson
 * and the CSV reader have checked UTF-8 already. */
static int text_ok(const char *s, size_t max, int required)
{
    size_t n = s ? strlen(s) : 0;

    if (n > max || (required && n == 0))
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

/* YYYY-MM-DD of a real day. */
static int date_ok(const char *s)
{
    char full[32];

    if (s == NULL || strlen(s) != 10)
        return 0;
    snprintf(full, sizeof(full), "%sT00:00:00Z", s);
    return chain_vc_datetime_valid(full);
}

static int fail(char field[64], char msg[160], const char *f, const char *m)
{
    snprintf(field, 64, "%s", f);
    snprintf(msg, 160, "%s", m);
    return -1;
}

/* Copies the optional string member k of in to out under the name as, after checking it. */
static int opt_text(const json_t *in, const char *k, json_t *out, const char *as, size_t max,
                    int is_date, char field[64], char msg[160])
{
    const json_t *v = json_object_get(in, k);
    const char *s = json_string_value(v);

    if (v == NULL || json_is_null(v) || (s != NULL && *s == '\0'))
        return 0;
    if (s == NULL)
        return fail(field, msg, k, "must be a string");
    if (is_date ? !date_ok(s) : !text_ok(s, max, 1))
        return fail(field, msg, k,
                    is_date ? "must be a date YYYY-MM-DD"
                            : "is too long or holds control characters");
    json_object_set_new(out, as, json_string(s));
    return 0;
}

/* A course: {"name", "credits", "grade"}; credits and grade are strings ("2.5", "A-") or
 * integers, kept as strings (the ledger's JSON has no fractions). */
static json_t *course(const json_t *c, char field[64], char msg[160])
{
    const char *keys[3] = {"name", "credits", "grade"};
    json_t *out = json_object();
    const char *k;
    json_t *v;

    if (!json_is_object(c)) {
        fail(field, msg, "courses", "each course is an object {name, credits, grade}");
        goto bad;
    }
    json_object_foreach((json_t *)c, k, v)
    {
        if (strcmp(k, "name") && strcmp(k, "credits") && strcmp(k, "grade")) {
            fail(field, msg, "courses", "a course has only name, credits and grade");
            goto bad;
        }
    }
    for (size_t i = 0; i < 3; i++) {
        char num[32];
        const char *s;

        v = json_object_get(c, keys[i]);
        if (json_is_integer(v)) {
            snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
            s = i == 0 ? NULL : num;
        } else {
            s = json_string_value(v);
        }
        if (!text_ok(s, i == 0 ? EDU_MAX_NAME : EDU_MAX_SHORT, 1)) {
            fail(field, msg, "courses",
                 i == 0 ? "a course needs a name of 1 to 200 bytes"
                        : "a course's credits and grade are 1 to 16 characters");
            goto bad;
        }
        json_object_set_new(out, keys[i], json_string(s));
    }
    return out;
bad:
    json_decref(out);
    return NULL;
}

int edu_subject_parse(const json_t *in, struct edu_subject *out, char field[64], char msg[160])
{
    static const char *const known[] = {"org",     "kind",    "name",        "student_number",
                                        "degree",  "major",   "start_date",  "end_date",
                                        "courses", "student", "valid_until", NULL};
    const char *k, *kind = json_string_value(json_object_get(in, "kind"));
    const char *name = json_string_value(json_object_get(in, "name"));
    const char *number = json_string_value(json_object_get(in, "student_number"));
    const char *student = json_string_value(json_object_get(in, "student"));
    const json_t *v, *courses = json_object_get(in, "courses");
    json_t *f = NULL;

    memset(out, 0, sizeof(*out));
    if (!json_is_object(in))
        return fail(field, msg, "body", "send a JSON object");
    json_object_foreach((json_t *)in, k, v)
    {
        size_t i = 0;

        while (known[i] && strcmp(known[i], k) != 0)
            i++;
        if (known[i] == NULL) {
            fail(field, msg, k, "is not a field of a credential");
            return -1;
        }
    }
    if (edu_kind_type(kind) == NULL)
        return fail(field, msg, "kind", "must be diploma, degree, transcript or completion");
    if (!text_ok(name, EDU_MAX_NAME, 1))
        return fail(field, msg, "name", "is required: 1 to 200 bytes, no control characters");
    if (!text_ok(number, EDU_MAX_NUMBER, 1))
        return fail(field, msg, "student_number",
                    "is required: 1 to 64 bytes, no control characters");
    if (json_object_get(in, "student") != NULL && !json_is_null(json_object_get(in, "student")) &&
        (student == NULL || (*student && !text_ok(student, 64, 1))))
        return fail(field, msg, "student", "must be the id of a student's account");
    f = json_pack("{s:s, s:s}", "name", name, "studentNumber", number);
    if (f == NULL)
        return fail(field, msg, "body", "out of memory");
    if (opt_text(in, "degree", f, "degree", EDU_MAX_NAME, 0, field, msg) != 0 ||
        opt_text(in, "major", f, "major", EDU_MAX_NAME, 0, field, msg) != 0 ||
        opt_text(in, "start_date", f, "startDate", 0, 1, field, msg) != 0 ||
        opt_text(in, "end_date", f, "endDate", 0, 1, field, msg) != 0)
        goto bad;
    if (json_string_value(json_object_get(f, "startDate")) &&
        json_string_value(json_object_get(f, "endDate")) &&
        strcmp(json_string_value(json_object_get(f, "startDate")),
               json_string_value(json_object_get(f, "endDate"))) > 0) {
        fail(field, msg, "end_date", "is before start_date");
        goto bad;
    }
    if (courses != NULL && !json_is_null(courses)) {
        json_t *list = json_array();
        size_t i;

        if (!json_is_array(courses) || json_array_size(courses) > EDU_MAX_COURSES) {
            json_decref(list);
            fail(field, msg, "courses", "must be a list of at most 300 courses");
            goto bad;
        }
        json_array_foreach(courses, i, v)
        {
            json_t *c = course(v, field, msg);

            if (c == NULL) {
                json_decref(list);
                goto bad;
            }
            json_array_append_new(list, c);
        }
        if (json_array_size(list) > 0)
            json_object_set_new(f, "courses", list);
        else
            json_decref(list);
    }
    if (strcmp(kind, "transcript") == 0 && json_object_get(f, "courses") == NULL) {
        fail(field, msg, "courses", "a transcript lists at least one course");
        goto bad;
    }
    if (json_string_value(json_object_get(in, "valid_until")) != NULL &&
        *json_string_value(json_object_get(in, "valid_until")) != '\0') {
        if (!date_ok(json_string_value(json_object_get(in, "valid_until")))) {
            fail(field, msg, "valid_until", "must be a date YYYY-MM-DD");
            goto bad;
        }
        snprintf(out->valid_until, sizeof(out->valid_until), "%sT23:59:59Z",
                 json_string_value(json_object_get(in, "valid_until")));
    } else if (json_object_get(in, "valid_until") != NULL &&
               !json_is_string(json_object_get(in, "valid_until")) &&
               !json_is_null(json_object_get(in, "valid_until"))) {
        fail(field, msg, "valid_until", "must be a date YYYY-MM-DD");
        goto bad;
    }
    snprintf(out->kind, sizeof(out->kind), "%s", kind);
    snprintf(out->student, sizeof(out->student), "%s", student ? student : "");
    snprintf(out->name, sizeof(out->name), "%s", name);
    snprintf(out->number, sizeof(out->number), "%s", number);
    out->fields = f;
    return 0;
bad:
    json_decref(f);
    return -1;
}

json_t *edu_courses_from_text(const char *text, char msg[160])
{
    json_t *list = json_array();
    char *copy = strdup(text ? text : ""), *save = NULL, *item;

    if (list == NULL || copy == NULL) {
        snprintf(msg, 160, "out of memory");
        goto bad;
    }
    for (item = strtok_r(copy, ";", &save); item != NULL; item = strtok_r(NULL, ";", &save)) {
        char *parts[3] = {NULL, NULL, NULL}, *p = item;
        size_t n = 0;

        while (*p == ' ')
            p++;
        if (*p == '\0')
            continue;
        parts[n++] = p;
        for (; *p; p++) {
            if (*p == '|') {
                *p = '\0';
                if (n == 3) {
                    n = 4;
                    break;
                }
                parts[n++] = p + 1;
            }
        }
        if (n != 3) {
            snprintf(msg, 160, "each course is written name|credits|grade, courses separated by ;");
            goto bad;
        }
        json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "name", parts[0], "credits",
                                              parts[1], "grade", parts[2]));
    }
    free(copy);
    return list;
bad:
    free(copy);
    json_decref(list);
    return NULL;
}

void edu_subject_clear(struct edu_subject *s)
{
    json_decref(s->fields);
    s->fields = NULL;
}

/* ---- the credential ---------------------------------------------------------------------- */

json_t *edu_vc_make(const struct edu_subject *s, const struct edu_issuer *is,
                    const char *student_did, const unsigned char *sk, char id[EDU_ID_LEN + 1])
{
    char urn[EDU_URN_LEN + 1], status[400];
    json_t *subject, *vc;

    edu_uuid(id);
    snprintf(urn, sizeof(urn), "urn:uuid:%s", id);
    snprintf(status, sizeof(status), "%s/api/edu/credentials/%s/status", is->base_url, id);
    subject = json_deep_copy(s->fields);
    if (subject != NULL && student_did != NULL)
        json_object_set_new(subject, "id", json_string(student_did));
    vc = json_pack("{s:[s], s:s, s:[s,s], s:{s:s, s:s}, s:s, s:o, s:{s:s, s:s}}", "@context",
                   EDU_VC_CONTEXT, "id", urn, "type", "VerifiableCredential",
                   edu_kind_type(s->kind), "issuer", "id", is->did, "name", is->name, "validFrom",
                   is->now_iso, "credentialSubject", subject, "credentialStatus", "id", status,
                   "type", EDU_STATUS_TYPE);
    if (vc != NULL && s->valid_until[0] != '\0')
        json_object_set_new(vc, "validUntil", json_string(s->valid_until));
    if (vc != NULL && chain_vc_sign(vc, sk, is->now_iso) != 0) {
        json_decref(vc);
        vc = NULL;
    }
    return vc;
}
