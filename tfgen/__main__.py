from tfgen.cli import main

raise SystemExit(main())
