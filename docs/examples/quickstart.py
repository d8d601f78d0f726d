# written by the lead
