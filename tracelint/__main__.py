from tracelint.entry import main

main()
