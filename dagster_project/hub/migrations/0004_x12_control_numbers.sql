-- Control numbers for the X12 interchanges we send (997, 850, 940): ISA13 is nine digits.
create sequence ops.x12_control_number minvalue 1 maxvalue 999999999 cycle;
