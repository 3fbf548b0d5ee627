/// The intake API's OpenAPI 3.1 document, served at `/openapi.yaml`. docs/openapi.yaml is
/// the same text; a test keeps the two identical.
public enum IntakeOpenAPI {
    public static let document = #"""
openapi: 3.1.0
info:
  title: HelpdeskSLA intake API
  version: 1.0.0
  description: >-
    For systems that cannot speak Kafka. Each accepted request is written to the
    tickets.inbound topic and answered 202 only after Kafka acknowledged it; the resulting
    event (ticket.received, ticket.rejected or a tickets.activity event) carries the eventId
    returned here. Message fields are those of docs/events.md.
servers:
  - url: http://localhost:8081
security:
  - bearer: []
  - apiKey: []
paths:
  /v1/tickets:
    post:
      summary: Open a ticket
      description: The body is a ticket.opened message; "type" may be omitted.
      requestBody:
        required: true
        content:
          application/json:
            schema: { $ref: '#/components/schemas/TicketOpened' }
      responses:
        '202': { $ref: '#/components/responses/Accepted' }
        '400': { $ref: '#/components/responses/Problem' }
        '401': { $ref: '#/components/responses/Problem' }
        '403': { $ref: '#/components/responses/Problem' }
        '413': { $ref: '#/components/responses/Problem' }
        '415': { $ref: '#/components/responses/Problem' }
        '422': { $ref: '#/components/responses/Invalid' }
        '503': { $ref: '#/components/responses/Problem' }
  /v1/tickets/{source}/{externalId}/messages:
    parameters: [{ $ref: '#/components/parameters/source' }, { $ref: '#/components/parameters/externalId' }]
    post:
      summary: Post a message on a ticket
      requestBody:
        required: true
        content:
          application/json:
            schema: { $ref: '#/components/schemas/TicketMessage' }
      responses:
        '202': { $ref: '#/components/responses/Accepted' }
        '400': { $ref: '#/components/responses/Problem' }
        '401': { $ref: '#/components/responses/Problem' }
        '403': { $ref: '#/components/responses/Problem' }
        '413': { $ref: '#/components/responses/Problem' }
        '415': { $ref: '#/components/responses/Problem' }
        '422': { $ref: '#/components/responses/Invalid' }
        '503': { $ref: '#/components/responses/Problem' }
  /v1/tickets/{source}/{externalId}/severity:
    parameters: [{ $ref: '#/components/parameters/source' }, { $ref: '#/components/parameters/externalId' }]
    post:
      summary: Change a ticket's severity (re-prioritization)
      requestBody:
        required: true
        content:
          application/json:
            schema: { $ref: '#/components/schemas/SeverityChange' }
      responses:
        '202': { $ref: '#/components/responses/Accepted' }
        '400': { $ref: '#/components/responses/Problem' }
        '401': { $ref: '#/components/responses/Problem' }
        '403': { $ref: '#/components/responses/Problem' }
        '413': { $ref: '#/components/responses/Problem' }
        '415': { $ref: '#/components/responses/Problem' }
        '422': { $ref: '#/components/responses/Invalid' }
        '503': { $ref: '#/components/responses/Problem' }
  /v1/tickets/{source}/{externalId}/status:
    parameters: [{ $ref: '#/components/parameters/source' }, { $ref: '#/components/parameters/externalId' }]
    post:
      summary: Change a ticket's status
      requestBody:
        required: true
        content:
          application/json:
            schema: { $ref: '#/components/schemas/StatusChange' }
      responses:
        '202': { $ref: '#/components/responses/Accepted' }
        '400': { $ref: '#/components/responses/Problem' }
        '401': { $ref: '#/components/responses/Problem' }
        '403': { $ref: '#/components/responses/Problem' }
        '413': { $ref: '#/components/responses/Problem' }
        '415': { $ref: '#/components/responses/Problem' }
        '422': { $ref: '#/components/responses/Invalid' }
        '503': { $ref: '#/components/responses/Problem' }
  /v1/tickets/{source}/{externalId}/assignment:
    parameters: [{ $ref: '#/components/parameters/source' }, { $ref: '#/components/parameters/externalId' }]
    post:
      summary: Assign a ticket to an agent (the assignee audience of its notifications)
      requestBody:
        required: true
        content:
          application/json:
            schema: { $ref: '#/components/schemas/Assignment' }
      responses:
        '202': { $ref: '#/components/responses/Accepted' }
        '400': { $ref: '#/components/responses/Problem' }
        '401': { $ref: '#/components/responses/Problem' }
        '403': { $ref: '#/components/responses/Problem' }
        '413': { $ref: '#/components/responses/Problem' }
        '415': { $ref: '#/components/responses/Problem' }
        '422': { $ref: '#/components/responses/Invalid' }
        '503': { $ref: '#/components/responses/Problem' }
  /openapi.yaml:
    get:
      summary: This document
      security: []
      responses:
        '200': { description: The OpenAPI document, content: { application/yaml: {} } }
  /healthz:
    get:
      security: []
      responses: { '200': { description: The process is alive } }
  /readyz:
    get:
      security: []
      responses:
        '200': { description: Joined the consumer group and Kafka is reachable }
        '503': { description: 'Not ready: {"status":"not ready","failing":[...]}' }
  /metrics:
    get:
      security: []
      responses: { '200': { description: Prometheus text format } }
components:
  securitySchemes:
    bearer: { type: http, scheme: bearer, description: 'A key from INTAKE_API_KEYS (source=key pairs); it may submit for its source only.' }
    apiKey: { type: apiKey, in: header, name: X-API-Key }
  parameters:
    source: { name: source, in: path, required: true, schema: { type: string, pattern: '^[a-z0-9._-]{1,64}$' } }
    externalId:
      name: externalId
      in: path
      required: true
      description: Percent-decoded once; an id containing '/' is sent as %2F.
      schema: { type: string, maxLength: 200 }
  responses:
    Accepted:
      description: Written to tickets.inbound and acknowledged by Kafka.
      content:
        application/json:
          schema:
            type: object
            required: [ticketId, eventId]
            properties:
              ticketId: { type: string, examples: [tk_3f0c2d9a1b7e4c5d6e7f8a9b] }
              eventId: { type: string, format: uuid, description: The id of the event intake emits for this request. }
    Problem:
      description: >-
        400 body not UTF-8 or not JSON, or a path segment not valid percent-encoding; 401 missing or
        invalid API key; 403 the key's source differs from the ticket's source; 413 body over 262,144
        bytes (by Content-Length or as read, chunked or not); 415 the body is not
        Content-Type application/json (UTF-8) or is compressed (Content-Encoding); 503 Kafka unreachable
        or did not acknowledge in time. A refusal sent before the body was read closes the connection.
      content:
        application/json:
          schema: { $ref: '#/components/schemas/Problem' }
    Invalid:
      description: The body is JSON but its fields are invalid; every problem is listed.
      content:
        application/json:
          schema: { $ref: '#/components/schemas/Problem' }
          example:
            error: invalid_fields
            message: The body has invalid fields.
            fieldErrors:
              - { field: subject, problem: is required }
              - { field: impact.usersAffected, problem: '"lots" is not one of all|majority|multiple|few|one' }
  schemas:
    Problem:
      type: object
      required: [error, message]
      properties:
        error: { type: string, description: 'Machine-readable code: not_utf8, not_json, not_an_object, invalid_fields, missing_api_key, invalid_api_key, wrong_source, too_large, kafka_unavailable.' }
        message: { type: string }
        fieldErrors:
          type: array
          items:
            type: object
            required: [field, problem]
            properties: { field: { type: string }, problem: { type: string } }
    Severity: { type: string, enum: [critical, major, minor, '1', '2', '3'] }
    TicketOpened:
      type: object
      required: [source, externalId, organizationId, subject]
      properties:
        type: { const: ticket.opened }
        source: { type: string, pattern: '^[a-z0-9._-]{1,64}$' }
        externalId: { type: string, maxLength: 200 }
        organizationId: { type: string, maxLength: 200 }
        subject: { type: string, maxLength: 1000 }
        description: { type: string, maxLength: 100000 }
        requester: { type: object, properties: { name: { type: string }, email: { type: string } } }
        reportedSeverity: { $ref: '#/components/schemas/Severity' }
        assignee: { type: string, maxLength: 320, description: The agent the ticket is assigned to, if known. }
        impact:
          type: object
          properties:
            serviceDown: { type: boolean }
            usersAffected: { enum: [all, majority, multiple, few, one] }
            workaround: { enum: [none, temporary, longTerm, notScalable] }
            installations: { enum: [halted, impaired, unaffected] }
            cosmetic: { type: boolean }
            dedicatedContact: { type: string }
        category: { enum: [incident, question, documentation] }
        openedAt: { type: string, format: date-time, description: 'At most 7 days (INTAKE_MAX_PAST_HOURS) before receipt (422 otherwise); a later instant counts as the receipt.' }
    TicketMessage:
      type: object
      required: [author]
      properties:
        type: { const: ticket.message }
        author:
          type: object
          required: [role]
          properties: { role: { enum: [agent, customer, system] }, email: { type: string }, name: { type: string } }
        public: { type: boolean, default: true }
        body: { type: string, maxLength: 100000 }
        cc: { type: array, maxItems: 50, items: { type: string } }
        sentAt: { type: string, format: date-time, description: 'At most 7 days (INTAKE_MAX_PAST_HOURS) before receipt (422 otherwise); a later instant counts as the receipt.' }
    SeverityChange:
      type: object
      required: [severity]
      properties:
        type: { const: ticket.severityChanged }
        severity: { $ref: '#/components/schemas/Severity' }
        changedBy: { type: string }
        reason: { type: string }
        changedAt: { type: string, format: date-time, description: 'At most 7 days (INTAKE_MAX_PAST_HOURS) before receipt (422 otherwise); a later instant counts as the receipt.' }
    Assignment:
      type: object
      required: [assignee]
      properties:
        type: { const: ticket.assigned }
        assignee: { type: string, minLength: 1, maxLength: 320 }
        assignedBy: { type: string, maxLength: 320 }
        assignedAt: { type: string, format: date-time, description: 'At most 7 days (INTAKE_MAX_PAST_HOURS) before receipt (422 otherwise); a later instant counts as the receipt.' }
    StatusChange:
      type: object
      required: [status]
      properties:
        type: { const: ticket.statusChanged }
        status: { enum: [new, open, pending, onHold, solved, closed] }
        changedAt: { type: string, format: date-time, description: 'At most 7 days (INTAKE_MAX_PAST_HOURS) before receipt (422 otherwise); a later instant counts as the receipt.' }

"""#
}
