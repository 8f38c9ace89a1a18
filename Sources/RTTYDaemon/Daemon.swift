import RTTYCore
