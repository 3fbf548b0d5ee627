#ifndef HELPDESK_CRDKAFKA_SHIM_H
#define HELPDESK_CRDKAFKA_SHIM_H
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#endif
