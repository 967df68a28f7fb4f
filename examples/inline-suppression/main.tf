# tfgen:ignore=KMS-001 reason="Rotation is done by the quarterly re-encryption job (SEC-1234)" expires=2027-03-31
resource "aws_kms_key" "this" {
  description             = "Application data key"
  deletion_window_in_days = 30
  enable_key_rotation     = false
}

terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 3.39"
    }
  }
}
