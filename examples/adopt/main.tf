# A root module with one finding, for the README's adoption examples: the key does not rotate.
terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 3.39"
    }
  }
}

resource "aws_kms_key" "this" {
  description             = "Application data key"
  deletion_window_in_days = 30
  enable_key_rotation     = false
}
