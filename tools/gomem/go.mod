module rt0/tools/gomem

go 1.19
