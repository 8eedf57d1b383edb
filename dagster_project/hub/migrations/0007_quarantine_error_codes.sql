-- Business error codes on quarantined input (quarantined input rows and dead letters
-- carry a code a person can sort and act on; docs/architecture.md, Ingest). Ingest sets
-- the code of each rejection (dagster_project/ingest: Rejected.code); rows quarantined
-- before this migration get the code their reason text names, else the generic
-- invalid_record.
alter table ops.quarantine add column error_code text not null default 'invalid_record';

update ops.quarantine
   set error_code = case
       when reason like '%a record must be a JSON object%' then 'record_not_object'
       when reason like '%primary key field(s)%missing%' then 'primary_key_missing'
       when reason like '%is unknown in % (no %' then 'unknown_reference'
       when reason like '%with an unreadable page%' then 'unreadable_page'
       when reason like '%webhook % body is not JSON%' then 'webhook_body_invalid'
       when reason like '%: unreadable X12:%' then 'x12_envelope_invalid'
       when reason like '%transaction set % rejected:%' then 'x12_transaction_rejected'
       when reason like '%takes files named%' then 'file_unrouted'
       when reason like '%not UTF-8 text%' then 'file_not_utf8'
       when reason like '%empty CSV (no header row)%' then 'csv_empty'
       when reason like '%has too many fields' or reason like '%has too few fields' then 'csv_row_malformed'
       when reason like '%(expected a whole number)' then 'csv_value_invalid'
       -- what is left are JSON Schema violations: "<system> <stream>: <field>: <message>"
       when reason ~ '^\S+ \S+: \S+: ' then 'schema_invalid'
       else 'invalid_record'
   end;

create index quarantine_open_code on ops.quarantine (error_code) where resolved_at is null;
