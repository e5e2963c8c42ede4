from sophia.cli import main

main()
