"""Excel exports: the streamed xlsx writer, export jobs run by the scheduler, the lean reader
process and the Exports screen."""
